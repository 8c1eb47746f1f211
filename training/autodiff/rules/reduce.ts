// SPDX-License-Identifier: MIT
/** Gradient rules of reductions: the output gradient is reshaped to keepdims form and expanded back. */
import { intAttr, intsAttr, numel } from '../../onnx/ir.ts';
import type { Value } from '../../onnx/ir.ts';
import type { GradContext, GradRule } from '../rule.ts';

/** X's shape with the reduced axes set to 1 (empty axes = all axes, negative axes count from the end). */
function keptShape(x: Value, axes: readonly number[]): number[] {
  const all = axes.length === 0 ? x.shape.map((_, i) => i) : axes.map((a) => (a < 0 ? a + x.shape.length : a));
  return x.shape.map((d, i) => (all.includes(i) ? 1 : d));
}

function spread(c: GradContext, axes: readonly number[], scale: number): Value {
  const kept = keptShape(c.I(0), axes);
  const g = intAttr(c.attrs, 'keepdims', 1) === 1 ? c.GO(0) : c.o.reshape(c.GO(0), kept);
  const scaled = scale === 1 ? g : c.o.mul(g, scale);
  return c.o.expand(scaled, c.I(0).shape);
}

/** ReduceSum's axes come from its optional input 1, which must be a constant for static shapes. */
function reduceSumAxes(c: GradContext): number[] {
  if (!c.node.inputs[1]) return [];
  return c.constInput(1, 'axes');
}

export const reduceRules: Readonly<Record<string, GradRule>> = {
  // dX = expand(dY); empty axes with noop_with_empty_axes=1 is the identity
  ReduceSum: (c) => {
    const axes = reduceSumAxes(c);
    const rest = c.node.inputs.slice(1).map(() => null);
    if (axes.length === 0 && intAttr(c.attrs, 'noop_with_empty_axes', 0) === 1) return [c.GO(0), ...rest];
    return [spread(c, axes, 1), ...rest];
  },
  // dX = expand(dY) / count, count = Π reduced dims (static)
  ReduceMean: (c) => {
    const axes = intsAttr(c.attrs, 'axes', []);
    const count = numel(c.I(0).shape) / numel(keptShape(c.I(0), axes));
    return [spread(c, axes, 1 / count)];
  },
};
