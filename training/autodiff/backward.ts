// SPDX-License-Identifier: MIT
/**
 * @file Reverse-mode autodiff over a GraphBuilder's nodes, emitting standard ONNX ops into the same
 * builder. Shared work lives here, once: pruning to the loss path (ORT does not remove dead nodes),
 * fan-in accumulation with one Sum, reduction of broadcast gradients to the input's shape, and
 * stopping at values marked noGrad (stopGradient, frozen inputs).
 */
import { numel, shapeStr } from '../onnx/ir.ts';
import type { Node, Value } from '../onnx/ir.ts';
import type { GraphBuilder } from '../onnx/builder.ts';
import { ops } from '../onnx/ops.ts';
import type { Ops } from '../onnx/ops.ts';
import { AutodiffError } from './rule.ts';
import type { GradContext } from './rule.ts';
import { gradRules } from './rules/index.ts';

export { AutodiffError };

/** Values on a path from `wrt` to `loss`, and the nodes producing them, in forward order. */
function activePath(b: GraphBuilder, loss: Value, wrt: readonly Value[]): { values: Set<Value>; nodes: Node[] } {
  const fromWrt = new Set<Value>(wrt.filter((v) => !v.noGrad));
  for (const node of b.nodeList) {
    if (node.inputs.some((v) => v !== null && fromWrt.has(v))) {
      for (const out of node.outputs) if (!out.noGrad) fromWrt.add(out);
    }
  }
  const toLoss = new Set<Value>([loss]);
  const nodes: Node[] = [];
  for (let k = b.nodeList.length - 1; k >= 0; k--) {
    const node = b.nodeList[k]!;
    if (!node.outputs.some((o) => toLoss.has(o) && fromWrt.has(o))) continue;
    nodes.push(node);
    for (const v of node.inputs) if (v !== null && fromWrt.has(v)) toLoss.add(v);
  }
  const values = new Set([...toLoss].filter((v) => fromWrt.has(v)));
  return { values, nodes: nodes.reverse() };
}

/** Sum over the axes along which `g` was broadcast from `target`'s shape, then reshape to it. */
function unbroadcast(o: Ops, g: Value, target: Value): Value {
  if (shapeStr(g.shape) === shapeStr(target.shape)) return g;
  if (numel(g.shape) === numel(target.shape) && g.shape.length !== target.shape.length) {
    return o.reshape(g, target.shape);
  }
  const lead = g.shape.length - target.shape.length;
  const axes = g.shape.flatMap((d, i) => (i < lead || (target.shape[i - lead] === 1 && d !== 1) ? [i] : []));
  const summed = axes.length > 0 ? o.reduceSum(g, axes, true) : g;
  if (numel(summed.shape) !== numel(target.shape)) {
    throw new AutodiffError(`gradient ${shapeStr(g.shape)} does not reduce to ${shapeStr(target.shape)}`);
  }
  return shapeStr(summed.shape) === shapeStr(target.shape) ? summed : o.reshape(summed, target.shape);
}

export interface GradientOptions {
  /** Gradient of the loss itself; defaults to 1 (the loss must then be a scalar). */
  seed?: Value;
}

/**
 * d loss / d wrt[i] for every requested value, emitted into `b`. A requested value that the loss
 * does not depend on gets an explicit zero tensor (so optimizers always see a gradient).
 */
export function gradients(b: GraphBuilder, loss: Value, wrt: readonly Value[], options: GradientOptions = {}): Value[] {
  const o = ops(b);
  if (!options.seed && numel(loss.shape) !== 1) {
    throw new AutodiffError(`loss must be a scalar, got ${shapeStr(loss.shape)}; pass a seed gradient`);
  }
  const { values, nodes } = activePath(b, loss, wrt);
  const pending = new Map<Value, Value[]>();
  const add = (v: Value, g: Value) => pending.set(v, [...(pending.get(v) ?? []), unbroadcast(o, g, v)]);
  const settle = (v: Value): Value | undefined => {
    const parts = pending.get(v);
    if (!parts) return undefined;
    const total = b.scope('grad', () => o.sum(parts));
    pending.set(v, [total]);
    return total;
  };
  add(loss, options.seed ?? b.constant([1], 'float32', loss.shape));

  for (let k = nodes.length - 1; k >= 0; k--) {
    const node = nodes[k]!;
    const rule = gradRules[node.opType];
    if (rule === undefined) throw new AutodiffError(`no gradient rule for op ${node.opType} (node ${node.name})`);
    if (rule === 'non-differentiable') continue;
    // A rule may return null for an input on the path (e.g. BN running stats): nothing flows back.
    if (!node.outputs.some((out) => pending.has(out))) continue;
    const ctx = makeContext(b, o, node, values, settle);
    const grads = b.scope(`${node.name}_grad`, () => rule(ctx));
    if (grads.length !== node.inputs.length) {
      throw new AutodiffError(`rule ${node.opType} returned ${grads.length} gradients for ${node.inputs.length} inputs`);
    }
    grads.forEach((g, i) => {
      const input = node.inputs[i];
      if (g && input && values.has(input)) add(input, g);
    });
  }
  return wrt.map((v) => settle(v) ?? b.constant(new Array<number>(numel(v.shape)).fill(0), v.dtype, v.shape));
}

function makeContext(b: GraphBuilder, o: Ops, node: Node, active: Set<Value>, settle: (v: Value) => Value | undefined): GradContext {
  return {
    b,
    o,
    node,
    attrs: node.attrs,
    I: (i) => node.inputs[i] ?? raise(`${node.name}: input ${i} is absent`),
    O: (i) => node.outputs[i] ?? raise(`${node.name}: output ${i} is absent`),
    GO: (i) => {
      const out = node.outputs[i];
      return (out && settle(out)) ?? raise(`${node.name}: no gradient reaches output ${i}`);
    },
    hasGO: (i) => {
      const out = node.outputs[i];
      return out !== undefined && settle(out) !== undefined;
    },
    needs: (i) => {
      const v = node.inputs[i];
      return v !== null && v !== undefined && active.has(v);
    },
    constInput: (i, what) => {
      const input = node.inputs[i] ?? raise(`${node.name}: input ${i} is absent`);
      return b.constInts(input) ?? raise(`${node.opType} ${node.name}: ${what} (input ${i}) must be a constant`);
    },
  };
}

function raise(msg: string): never {
  throw new AutodiffError(msg);
}
