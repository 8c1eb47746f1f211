// SPDX-License-Identifier: MIT
/**
 * @file Build-time graph pass: merge nodes that compute the same value, then drop what reaches no
 * output. ONNX Runtime neither removes dead nodes nor knows that two graph inputs carry one tensor
 * (IGN's frozen copy `frozen.X` is fed the same buffer as `X`), so the pass does both here:
 *
 *  1. inputs listed in `sameAs` are replaced by the input they alias;
 *  2. Identity nodes are bypassed (stopGradient has done its work once autodiff has run), except
 *     where the Identity names a graph output;
 *  3. walking in topological order, a node whose (op type, attributes, inputs) equal an earlier
 *     node's is dropped and its outputs are read from the earlier one. Deterministic ops give equal
 *     values for equal inputs, so this is exact; random ops are never merged. Training-mode
 *     BatchNormalization with ONNX momentum 0 ignores its running-statistic inputs 3/4 (outputs are
 *     y, batch mean, biased batch variance), so only inputs 0–2 enter its key;
 *  4. nodes none of whose outputs reaches a graph output are removed, then unused inputs and
 *     initializers.
 *
 * API: dedupeGraph(graph, { sameAs? }) → { graph, merged, dead, removedInputs }
 */
import type { Attr, Graph, Node, Value } from './ir.ts';

export interface DedupeOptions {
  /** Graph input name → name of the graph input that is always fed the same tensor. */
  sameAs?: Readonly<Record<string, string>>;
}

export interface DedupeResult {
  graph: Graph;
  /** Nodes dropped as duplicates of an earlier node (Identity bypasses included). */
  merged: number;
  /** Nodes removed because they reached no output. */
  dead: number;
  removedInputs: string[];
}

const RANDOM_OPS = new Set([
  'RandomNormal',
  'RandomNormalLike',
  'RandomUniform',
  'RandomUniformLike',
  'Multinomial',
  'Bernoulli',
  'Dropout',
]);

function attrKey(a: Attr): string {
  if (a.type === 'tensor') return `tensor:${a.value.dtype}:${a.value.shape.join(',')}:${Array.from(a.value.data, String).join(',')}`;
  return `${a.type}:${JSON.stringify(a.value)}`;
}

function isMomentumZeroTrainingBn(node: Node): boolean {
  if (node.opType !== 'BatchNormalization') return false;
  const mode = node.attrs.training_mode;
  const momentum = node.attrs.momentum;
  return mode?.type === 'int' && mode.value === 1 && momentum?.type === 'float' && momentum.value === 0;
}

function nodeKey(node: Node, inputs: readonly (Value | null)[]): string | null {
  if (RANDOM_OPS.has(node.opType)) return null;
  const used = isMomentumZeroTrainingBn(node) ? inputs.slice(0, 3) : inputs;
  const attrs = Object.keys(node.attrs)
    .sort()
    .map((k) => `${k}=${attrKey(node.attrs[k]!)}`);
  return `${node.opType}|${node.outputs.length}|${attrs.join(';')}|${used.map((v) => v?.name ?? '').join(',')}`;
}

export function dedupeGraph(graph: Graph, options: DedupeOptions = {}): DedupeResult {
  const byName = new Map(graph.inputs.map((v) => [v.name, v]));
  const replace = new Map<Value, Value>();
  for (const [alias, target] of Object.entries(options.sameAs ?? {})) {
    const from = byName.get(alias);
    const to = byName.get(target);
    if (!from || !to) throw new Error(`dedupeGraph: sameAs ${alias} → ${target} names a missing graph input`);
    if (from.dtype !== to.dtype || from.shape.join(',') !== to.shape.join(',')) {
      throw new Error(`dedupeGraph: ${alias} and ${target} differ in dtype or shape`);
    }
    replace.set(from, to);
  }
  const resolve = (v: Value | null): Value | null => (v === null ? null : (replace.get(v) ?? v));
  const outputs = new Set(graph.outputs);
  const seen = new Map<string, Node>();
  const kept: Node[] = [];
  let merged = 0;
  for (const node of graph.nodes) {
    const inputs = node.inputs.map(resolve);
    const namesOutput = node.outputs.some((v) => outputs.has(v));
    if (node.opType === 'Identity' && !namesOutput && inputs[0]) {
      replace.set(node.outputs[0]!, inputs[0]);
      merged += 1;
      continue;
    }
    const key = namesOutput ? null : nodeKey(node, inputs);
    const twin = key === null ? undefined : seen.get(key);
    if (twin) {
      node.outputs.forEach((v, i) => replace.set(v, twin.outputs[i]!));
      merged += 1;
      continue;
    }
    const rewritten: Node = { ...node, inputs };
    if (key !== null) seen.set(key, rewritten);
    kept.push(rewritten);
  }
  const live = pruneDead(kept, graph.outputs);
  const used = new Set<Value>(graph.outputs);
  for (const node of live) for (const v of node.inputs) if (v) used.add(v);
  const inputs = graph.inputs.filter((v) => used.has(v));
  return {
    graph: {
      ...graph,
      nodes: live,
      inputs,
      initializers: graph.initializers.filter((i) => used.has(i.value)),
    },
    merged,
    dead: kept.length - live.length,
    removedInputs: graph.inputs.filter((v) => !used.has(v)).map((v) => v.name),
  };
}

/** Nodes (in order) with at least one output that transitively reaches a graph output. */
function pruneDead(nodes: readonly Node[], outputs: readonly Value[]): Node[] {
  const live = new Set<Value>(outputs);
  const keep: Node[] = [];
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i]!;
    if (!node.outputs.some((v) => live.has(v))) continue;
    keep.push(node);
    for (const v of node.inputs) if (v) live.add(v);
  }
  return keep.reverse();
}
