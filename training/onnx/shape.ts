// SPDX-License-Identifier: MIT
/**
 * Build-time shape and dtype inference per op: every Value carries a static shape, and a mismatch
 * is raised here, naming the node and both shapes, long before ONNX Runtime sees the graph.
 */
import { intAttr, intsAttr, shapeStr } from './ir.ts';
import type { Attrs, DType, Shape, Value } from './ir.ts';

export interface OutSpec {
  dtype: DType;
  shape: Shape;
}

export interface InferCtx {
  readonly node: string;
  readonly inputs: readonly (Value | null)[];
  readonly attrs: Attrs;
  /** Value of a constant input (shape, axes, starts, …), or throws: static shapes need them. */
  readonly constInts: (i: number) => number[];
}

export class ShapeError extends Error {
  override name = 'ShapeError';
}

function fail(ctx: InferCtx, msg: string): never {
  throw new ShapeError(`${ctx.node}: ${msg}`);
}

function inp(ctx: InferCtx, i: number): Value {
  const v = ctx.inputs[i];
  if (!v) fail(ctx, `missing input ${i}`);
  return v;
}

/** Numpy-style broadcast of any number of shapes. */
function broadcastShapes(ctx: InferCtx, shapes: readonly Shape[]): Shape {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let k = 0; k < rank; k++) {
    let dim = 1;
    for (const s of shapes) {
      const d = s[s.length - rank + k] ?? 1;
      if (d === 1) continue;
      if (dim !== 1 && dim !== d) fail(ctx, `cannot broadcast ${shapes.map(shapeStr).join(' with ')}`);
      dim = d;
    }
    out.push(dim);
  }
  return out;
}

const normAxis = (ctx: InferCtx, axis: number, rank: number): number => {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) fail(ctx, `axis ${axis} out of range for rank ${rank}`);
  return a;
};

const same = (ctx: InferCtx): OutSpec[] => [{ dtype: inp(ctx, 0).dtype, shape: inp(ctx, 0).shape }];

function binary(dtype?: DType) {
  return (ctx: InferCtx): OutSpec[] => {
    const a = inp(ctx, 0);
    const b = inp(ctx, 1);
    if (a.dtype !== b.dtype) fail(ctx, `dtype mismatch ${a.dtype} vs ${b.dtype}`);
    return [{ dtype: dtype ?? a.dtype, shape: broadcastShapes(ctx, [a.shape, b.shape]) }];
  };
}

function reduce(ctx: InferCtx, axes: readonly number[]): OutSpec[] {
  const x = inp(ctx, 0);
  const keep = intAttr(ctx.attrs, 'keepdims', 1) === 1;
  const all = axes.length === 0 ? x.shape.map((_, i) => i) : axes.map((a) => normAxis(ctx, a, x.shape.length));
  const shape = x.shape.flatMap((d, i) => (all.includes(i) ? (keep ? [1] : []) : [d]));
  return [{ dtype: x.dtype, shape }];
}

function reshape(ctx: InferCtx): OutSpec[] {
  const x = inp(ctx, 0);
  const target = ctx.constInts(1).map((d, i) => (d === 0 ? (x.shape[i] ?? fail(ctx, 'bad 0 dim')) : d));
  const known = target.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const total = x.shape.reduce((a, b) => a * b, 1);
  const shape = target.map((d) => (d === -1 ? total / known : d));
  if (shape.reduce((a, b) => a * b, 1) !== total || shape.some((d) => !Number.isInteger(d))) {
    fail(ctx, `cannot reshape ${shapeStr(x.shape)} to ${shapeStr(target)}`);
  }
  return [{ dtype: x.dtype, shape }];
}

function transpose(ctx: InferCtx): OutSpec[] {
  const x = inp(ctx, 0);
  const perm = intsAttr(
    ctx.attrs,
    'perm',
    x.shape.map((_, i) => x.shape.length - 1 - i),
  );
  if (perm.length !== x.shape.length) fail(ctx, `perm ${shapeStr(perm)} does not fit ${shapeStr(x.shape)}`);
  return [{ dtype: x.dtype, shape: perm.map((p) => x.shape[p] ?? fail(ctx, 'bad perm')) }];
}

function concat(ctx: InferCtx): OutSpec[] {
  const first = inp(ctx, 0);
  const axis = normAxis(ctx, intAttr(ctx.attrs, 'axis', 0), first.shape.length);
  let sum = 0;
  for (const v of ctx.inputs) {
    if (!v) fail(ctx, 'missing input');
    const ok = v.shape.length === first.shape.length && v.shape.every((d, i) => i === axis || d === first.shape[i]);
    if (!ok) fail(ctx, `cannot concat ${shapeStr(first.shape)} and ${shapeStr(v.shape)} on axis ${axis}`);
    sum += v.shape[axis]!;
  }
  return [{ dtype: first.dtype, shape: first.shape.map((d, i) => (i === axis ? sum : d)) }];
}

function slice(ctx: InferCtx): OutSpec[] {
  const x = inp(ctx, 0);
  const starts = ctx.constInts(1);
  const ends = ctx.constInts(2);
  const axes = ctx.inputs[3] ? ctx.constInts(3) : starts.map((_, i) => i);
  const steps = ctx.inputs[4] ? ctx.constInts(4) : starts.map(() => 1);
  const shape = [...x.shape];
  axes.forEach((axisRaw, k) => {
    const axis = normAxis(ctx, axisRaw, x.shape.length);
    const dim = x.shape[axis]!;
    const step = steps[k]!;
    if (step <= 0) fail(ctx, 'only positive slice steps are supported');
    const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + dim : v, 0), dim);
    shape[axis] = Math.max(0, Math.ceil((clamp(ends[k]!) - clamp(starts[k]!)) / step));
  });
  return [{ dtype: x.dtype, shape }];
}

function matmul(ctx: InferCtx): OutSpec[] {
  const a = inp(ctx, 0);
  const b = inp(ctx, 1);
  if (a.shape.length < 2 || b.shape.length < 2) fail(ctx, 'MatMul needs rank ≥ 2 operands');
  const [m, k] = a.shape.slice(-2) as [number, number];
  const [k2, n] = b.shape.slice(-2) as [number, number];
  if (k !== k2) fail(ctx, `inner dims differ: ${shapeStr(a.shape)} × ${shapeStr(b.shape)}`);
  const batch = broadcastShapes(ctx, [a.shape.slice(0, -2), b.shape.slice(0, -2)]);
  return [{ dtype: a.dtype, shape: [...batch, m, n] }];
}

function gemm(ctx: InferCtx): OutSpec[] {
  const a = inp(ctx, 0);
  const b = inp(ctx, 1);
  const [m, k] = intAttr(ctx.attrs, 'transA', 0) ? [a.shape[1]!, a.shape[0]!] : [a.shape[0]!, a.shape[1]!];
  const [k2, n] = intAttr(ctx.attrs, 'transB', 0) ? [b.shape[1]!, b.shape[0]!] : [b.shape[0]!, b.shape[1]!];
  if (k !== k2) fail(ctx, `inner dims differ: ${shapeStr(a.shape)} × ${shapeStr(b.shape)}`);
  const c = ctx.inputs[2];
  if (c) broadcastShapes(ctx, [c.shape, [m, n]]);
  return [{ dtype: a.dtype, shape: [m, n] }];
}

/** Spatial geometry shared by Conv and ConvTranspose (2-D and 1-D). */
function convGeometry(ctx: InferCtx, w: Value, spatial: number) {
  const k = intsAttr(ctx.attrs, 'kernel_shape', w.shape.slice(2));
  const s = intsAttr(ctx.attrs, 'strides', new Array<number>(spatial).fill(1));
  const d = intsAttr(ctx.attrs, 'dilations', new Array<number>(spatial).fill(1));
  const p = intsAttr(ctx.attrs, 'pads', new Array<number>(2 * spatial).fill(0));
  return { k, s, d, p, group: intAttr(ctx.attrs, 'group', 1) };
}

function conv(ctx: InferCtx): OutSpec[] {
  const x = inp(ctx, 0);
  const w = inp(ctx, 1);
  const spatial = x.shape.length - 2;
  const { k, s, d, p, group } = convGeometry(ctx, w, spatial);
  if (x.shape[1] !== w.shape[1]! * group) fail(ctx, `input ${shapeStr(x.shape)} vs weight ${shapeStr(w.shape)}`);
  const out = x.shape.slice(2).map((h, i) => {
    const o = Math.floor((h + p[i]! + p[i + spatial]! - d[i]! * (k[i]! - 1) - 1) / s[i]!) + 1;
    return o > 0 ? o : fail(ctx, `empty output for input ${shapeStr(x.shape)}`);
  });
  return [{ dtype: x.dtype, shape: [x.shape[0]!, w.shape[0]!, ...out] }];
}

function convTranspose(ctx: InferCtx): OutSpec[] {
  const x = inp(ctx, 0);
  const w = inp(ctx, 1);
  const spatial = x.shape.length - 2;
  const { k, s, d, p, group } = convGeometry(ctx, w, spatial);
  if (ctx.attrs.output_shape) fail(ctx, 'output_shape is unsafe (it shifts pixels at stride 3): use pads + output_padding');
  const op = intsAttr(ctx.attrs, 'output_padding', new Array<number>(spatial).fill(0));
  if (x.shape[1] !== w.shape[0]) fail(ctx, `input ${shapeStr(x.shape)} vs weight ${shapeStr(w.shape)}`);
  const out = x.shape.slice(2).map((h, i) => s[i]! * (h - 1) + op[i]! + (k[i]! - 1) * d[i]! + 1 - p[i]! - p[i + spatial]!);
  return [{ dtype: x.dtype, shape: [x.shape[0]!, w.shape[1]! * group, ...out] }];
}

function batchNorm(ctx: InferCtx): OutSpec[] {
  const x = inp(ctx, 0);
  const c = x.shape[1]!;
  for (let i = 1; i < 5; i++) {
    const v = inp(ctx, i);
    if (v.shape.length !== 1 || v.shape[0] !== c) fail(ctx, `input ${i} ${shapeStr(v.shape)} must be [${c}]`);
  }
  const y = { dtype: x.dtype, shape: x.shape };
  if (intAttr(ctx.attrs, 'training_mode', 0) === 0) return [y];
  return [y, { dtype: x.dtype, shape: [c] }, { dtype: x.dtype, shape: [c] }];
}

function where(ctx: InferCtx): OutSpec[] {
  const [c, a, b] = [inp(ctx, 0), inp(ctx, 1), inp(ctx, 2)];
  if (c.dtype !== 'bool') fail(ctx, 'condition must be bool');
  return [{ dtype: a.dtype, shape: broadcastShapes(ctx, [c.shape, a.shape, b.shape]) }];
}

function expand(ctx: InferCtx): OutSpec[] {
  const x = inp(ctx, 0);
  return [{ dtype: x.dtype, shape: broadcastShapes(ctx, [x.shape, ctx.constInts(1)]) }];
}

function unsqueeze(ctx: InferCtx): OutSpec[] {
  const x = inp(ctx, 0);
  const rank = x.shape.length + ctx.constInts(1).length;
  const axes = ctx.constInts(1).map((a) => normAxis(ctx, a, rank));
  const shape: number[] = [];
  let j = 0;
  for (let i = 0; i < rank; i++) shape.push(axes.includes(i) ? 1 : x.shape[j++]!);
  return [{ dtype: x.dtype, shape }];
}

function squeeze(ctx: InferCtx): OutSpec[] {
  const x = inp(ctx, 0);
  const axes = ctx.constInts(1).map((a) => normAxis(ctx, a, x.shape.length));
  axes.forEach((a) => {
    if (x.shape[a] !== 1) fail(ctx, `cannot squeeze axis ${a} of ${shapeStr(x.shape)}`);
  });
  return [{ dtype: x.dtype, shape: x.shape.filter((_, i) => !axes.includes(i)) }];
}

function pad(ctx: InferCtx): OutSpec[] {
  const x = inp(ctx, 0);
  const pads = ctx.constInts(1);
  const r = x.shape.length;
  return [{ dtype: x.dtype, shape: x.shape.map((d, i) => d + pads[i]! + pads[i + r]!) }];
}

function dropout(ctx: InferCtx): OutSpec[] {
  const x = inp(ctx, 0);
  return [
    { dtype: x.dtype, shape: x.shape },
    { dtype: 'bool', shape: x.shape },
  ];
}

const DTYPE_OF_ONNX: Record<number, DType> = { 1: 'float32', 2: 'uint8', 6: 'int32', 7: 'int64', 9: 'bool' };

export const shapeRules: Record<string, (ctx: InferCtx) => OutSpec[]> = {
  Identity: same,
  Relu: same,
  LeakyRelu: same,
  Tanh: same,
  Sigmoid: same,
  Neg: same,
  Abs: same,
  Sqrt: same,
  Exp: same,
  Log: same,
  Reciprocal: same,
  Sign: same,
  Softplus: same,
  Not: same,
  Add: binary(),
  Sub: binary(),
  Mul: binary(),
  Div: binary(),
  Pow: binary(),
  Max: binary(),
  Min: binary(),
  Greater: binary('bool'),
  Less: binary('bool'),
  Equal: binary('bool'),
  And: binary('bool'),
  Sum: (ctx) => [
    {
      dtype: inp(ctx, 0).dtype,
      shape: broadcastShapes(
        ctx,
        ctx.inputs.map((v) => v?.shape ?? []),
      ),
    },
  ],
  Cast: (ctx) => [{ dtype: DTYPE_OF_ONNX[intAttr(ctx.attrs, 'to', 1)] ?? fail(ctx, 'unsupported Cast'), shape: inp(ctx, 0).shape }],
  ReduceMean: (ctx) => reduce(ctx, intsAttr(ctx.attrs, 'axes', [])),
  ReduceSum: (ctx) => {
    const axes = ctx.inputs[1] ? ctx.constInts(1) : [];
    // opset 13+: empty axes with noop_with_empty_axes=1 returns the input unchanged
    return axes.length === 0 && intAttr(ctx.attrs, 'noop_with_empty_axes', 0) === 1 ? same(ctx) : reduce(ctx, axes);
  },
  // opset 17: ReduceMax takes axes as an attribute (an input only from opset 18)
  ReduceMax: (ctx) => reduce(ctx, intsAttr(ctx.attrs, 'axes', [])),
  Reshape: reshape,
  Transpose: transpose,
  Concat: concat,
  Slice: slice,
  Expand: expand,
  Unsqueeze: unsqueeze,
  Squeeze: squeeze,
  Pad: pad,
  MatMul: matmul,
  Gemm: gemm,
  Conv: conv,
  ConvTranspose: convTranspose,
  BatchNormalization: batchNorm,
  Where: where,
  Dropout: dropout,
};
