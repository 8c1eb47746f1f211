// SPDX-License-Identifier: MIT
/**
 * Gradient rules of data-movement ops. Index inputs (shapes, axes, starts, pads) are constants in
 * our graphs (static shapes), so every rule reads them with constInts and emits no Shape ops.
 */
import { intAttr, intsAttr, shapeStr } from '../../onnx/ir.ts';
import type { Value } from '../../onnx/ir.ts';
import { AutodiffError } from '../rule.ts';
import type { GradContext, GradRule } from '../rule.ts';

/** Nulls for the index inputs after input 0. */
const tail = (c: GradContext): null[] => c.node.inputs.slice(1).map(() => null);

// dX = Reshape(dY, shape(X)) (Reshape, Squeeze, Unsqueeze only move the same elements)
const reshapeBack = (c: GradContext): (Value | null)[] => [c.o.reshape(c.GO(0), c.I(0).shape), ...tail(c)];

// dX = Transpose(dY, perm⁻¹)
function transposeGrad(c: GradContext): (Value | null)[] {
  const rank = c.I(0).shape.length;
  const perm = intsAttr(
    c.attrs,
    'perm',
    Array.from({ length: rank }, (_, i) => rank - 1 - i),
  );
  const inverse = new Array<number>(rank);
  perm.forEach((p, i) => (inverse[p] = i));
  return [c.o.transpose(c.GO(0), inverse)];
}

// dXᵢ = Slice(dY, offsetᵢ, offsetᵢ + lenᵢ) along the concat axis
function concatGrad(c: GradContext): (Value | null)[] {
  const rank = c.O(0).shape.length;
  const rawAxis = intAttr(c.attrs, 'axis', 0);
  const axis = rawAxis < 0 ? rawAxis + rank : rawAxis;
  let offset = 0;
  return c.node.inputs.map((v, i) => {
    const len = v?.shape[axis] ?? 0;
    const start = offset;
    offset += len;
    return c.needs(i) ? c.o.slice(c.GO(0), [start], [start + len], [axis]) : null;
  });
}

/** Per sliced axis: the clamped start, the output length and the step (positive steps only). */
function sliceGeometry(c: GradContext): { axis: number; start: number; count: number; step: number }[] {
  const x = c.I(0);
  const starts = c.constInput(1, 'starts');
  const axes = c.node.inputs[3] ? c.constInput(3, 'axes') : starts.map((_, i) => i);
  const steps = c.node.inputs[4] ? c.constInput(4, 'steps') : starts.map(() => 1);
  return axes.map((raw, k) => {
    const axis = raw < 0 ? raw + x.shape.length : raw;
    const dim = x.shape[axis]!;
    const step = steps[k]!;
    if (step <= 0) throw new AutodiffError(`Slice ${c.node.name}: only positive steps have a gradient rule`);
    const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + dim : v, 0), dim);
    const start = clamp(starts[k]!);
    return { axis, start, step, count: c.O(0).shape[axis]! };
  });
}

/**
 * Step s > 1 without a scatter: [.., n, ..] → [.., n, 1, ..] → Pad to [.., n, s, ..] → [.., n·s, ..]
 * puts element j at s·j with zeros between; then crop to what fits after the start.
 */
function spreadAxis(c: GradContext, g: Value, axis: number, step: number, room: number): Value {
  const n = g.shape[axis]!;
  const split = [...g.shape.slice(0, axis + 1), 1, ...g.shape.slice(axis + 1)];
  const pads = new Array<number>(2 * split.length).fill(0);
  pads[split.length + axis + 1] = step - 1;
  const spaced = c.o.pad(c.o.reshape(g, split), pads);
  const merged = c.o.reshape(
    spaced,
    g.shape.map((d, i) => (i === axis ? n * step : d)),
  );
  const keep = Math.min(n * step, room);
  return keep === n * step ? merged : c.o.slice(merged, [0], [keep], [axis]);
}

// dX = Pad(dY) with zeros around the slice (steps > 1 interleave zeros first, see spreadAxis)
function sliceGrad(c: GradContext): (Value | null)[] {
  const x = c.I(0);
  const geometry = sliceGeometry(c);
  if (geometry.some((s) => s.count === 0)) return [null, ...tail(c)];
  let g = c.GO(0);
  const pads = new Array<number>(2 * x.shape.length).fill(0);
  for (const { axis, start, count, step } of geometry) {
    const room = x.shape[axis]! - start;
    if (step > 1) g = spreadAxis(c, g, axis, step, room);
    pads[axis] = start;
    pads[axis + x.shape.length] = room - (step > 1 ? g.shape[axis]! : count);
  }
  return [pads.every((p) => p === 0) ? g : c.o.pad(g, pads), ...tail(c)];
}

// dX = Slice(dY, pads_begin, pads_begin + shape(X)): constant mode, non-negative pads
function padGrad(c: GradContext): (Value | null)[] {
  const x = c.I(0);
  const mode = c.attrs.mode;
  if (mode !== undefined && !(mode.type === 'string' && mode.value === 'constant')) {
    throw new AutodiffError(`Pad ${c.node.name}: only constant mode has a gradient rule`);
  }
  if (c.needs(2)) throw new AutodiffError(`Pad ${c.node.name}: gradient wrt constant_value is not supported`);
  const pads = c.constInput(1, 'pads');
  if (pads.some((p) => p < 0)) throw new AutodiffError(`Pad ${c.node.name}: negative pads ${shapeStr(pads)} are not supported`);
  const starts = x.shape.map((_, i) => pads[i]!);
  const ends = x.shape.map((d, i) => pads[i]! + d);
  const axes = x.shape.map((_, i) => i);
  const g = pads.every((p) => p === 0) ? c.GO(0) : c.o.slice(c.GO(0), starts, ends, axes);
  return [g, ...tail(c)];
}

export const shapeOpRules: Readonly<Record<string, GradRule>> = {
  Reshape: reshapeBack,
  Squeeze: reshapeBack,
  Unsqueeze: reshapeBack,
  Transpose: transposeGrad,
  Concat: concatGrad,
  Slice: sliceGrad,
  // dX = dY; backward.ts sums the broadcast axes back to shape(X)
  Expand: (c) => [c.GO(0), null],
  Pad: padGrad,
};
