// SPDX-License-Identifier: MIT
/** Gradient rules of reductions: the output gradient is reshaped to keepdims form and expanded back. */
import { intAttr, intsAttr, numel } from '../../onnx/ir.ts';
import type { GradContext, GradRule } from '../rule.ts';

function keptShape(c: GradContext, axes: readonly number[]): number[] {
  const x = c.I(0);
  const all = axes.length === 0 ? x.shape.map((_, i) => i) : axes.map((a) => (a < 0 ? a + x.shape.length : a));
  return x.shape.map((d, i) => (all.includes(i) ? 1 : d));
}

function spread(c: GradContext, axes: readonly number[], scale: number) {
  const kept = keptShape(c, axes);
  const g = intAttr(c.attrs, 'keepdims', 1) === 1 ? c.GO(0) : c.o.reshape(c.GO(0), kept);
  const scaled = scale === 1 ? g : c.o.mul(g, scale);
  return c.o.expand(scaled, c.I(0).shape);
}

export const reduceRules: Readonly<Record<string, GradRule>> = {
  // dX = expand(dY)
  ReduceSum: (c) => {
    const axes = c.node.inputs[1] ? (c.b.constInts(c.I(1)) ?? []) : [];
    return [spread(c, axes, 1), null];
  },
  // dX = expand(dY) / count, count = Π reduced dims (static)
  ReduceMean: (c) => {
    const axes = intsAttr(c.attrs, 'axes', []);
    const count = numel(c.I(0).shape) / numel(keptShape(c, axes));
    return [spread(c, axes, 1 / count)];
  },
};
