// SPDX-License-Identifier: MIT
/**
 * Typed camelCase emitters over GraphBuilder for the ops we use (ONNX spelling lives in the
 * opType strings). `const o = ops(b); o.add(x, y)`. Numbers passed where a Value is expected
 * become cached float32 scalar constants.
 */
import { attr } from './ir.ts';
import type { Attrs, Value } from './ir.ts';
import type { GraphBuilder } from './builder.ts';

export interface ConvOptions {
  strides?: readonly number[];
  pads?: readonly number[];
  dilations?: readonly number[];
  group?: number;
  outputPadding?: readonly number[];
}

type Operand = Value | number;

export function ops(b: GraphBuilder) {
  const v = (x: Operand): Value => (typeof x === 'number' ? b.constant([x]) : x);
  const i64 = (xs: readonly number[]): Value => b.constant(xs, 'int64', [xs.length]);
  const unary =
    (opType: string) =>
    (x: Value): Value =>
      b.op(opType, [x]);
  const binary =
    (opType: string) =>
    (x: Operand, y: Operand): Value =>
      b.op(opType, [v(x), v(y)]);

  const convAttrs = (w: Value, o: ConvOptions): Record<string, ReturnType<typeof attr.is>> => {
    const spatial = w.shape.length - 2;
    const a: Record<string, ReturnType<typeof attr.is>> = {
      kernel_shape: attr.is(w.shape.slice(2)),
      strides: attr.is(o.strides ?? new Array<number>(spatial).fill(1)),
      pads: attr.is(o.pads ?? new Array<number>(2 * spatial).fill(0)),
      dilations: attr.is(o.dilations ?? new Array<number>(spatial).fill(1)),
      group: attr.i(o.group ?? 1),
    };
    if (o.outputPadding) a.output_padding = attr.is(o.outputPadding);
    return a;
  };

  return {
    b,
    scalar: (x: number): Value => b.constant([x]),
    ints: i64,
    identity: unary('Identity'),
    relu: unary('Relu'),
    tanh: unary('Tanh'),
    sigmoid: unary('Sigmoid'),
    neg: unary('Neg'),
    abs: unary('Abs'),
    sqrt: unary('Sqrt'),
    exp: unary('Exp'),
    log: unary('Log'),
    sign: unary('Sign'),
    reciprocal: unary('Reciprocal'),
    leakyRelu: (x: Value, alpha = 0.01): Value => b.op('LeakyRelu', [x], { alpha: attr.f(alpha) }),
    add: binary('Add'),
    sub: binary('Sub'),
    mul: binary('Mul'),
    div: binary('Div'),
    /** x ** p for a constant exponent p (the only Pow autodiff supports). */
    pow: (x: Value, p: number): Value => b.op('Pow', [x, b.constant([p])]),
    greater: binary('Greater'),
    less: binary('Less'),
    sum: (xs: readonly Value[]): Value => (xs.length === 1 ? xs[0]! : b.op('Sum', xs)),
    where: (cond: Value, x: Operand, y: Operand): Value => b.op('Where', [cond, v(x), v(y)]),
    cast: (x: Value, to: 'float32' | 'bool' | 'int64'): Value => b.op('Cast', [x], { to: attr.i({ float32: 1, bool: 9, int64: 7 }[to]) }),
    /** Empty axes = all axes; the attribute is then omitted (an empty INTS fails onnx.checker). */
    reduceMean: (x: Value, axes: readonly number[], keepdims = true): Value =>
      b.op(
        'ReduceMean',
        [x],
        axes.length > 0 ? { axes: attr.is(axes), keepdims: attr.i(keepdims ? 1 : 0) } : { keepdims: attr.i(keepdims ? 1 : 0) },
      ),
    reduceSum: (x: Value, axes: readonly number[], keepdims = true): Value =>
      b.op('ReduceSum', [x, i64(axes)], { keepdims: attr.i(keepdims ? 1 : 0) }),
    reshape: (x: Value, shape: readonly number[]): Value => b.op('Reshape', [x, i64(shape)]),
    expand: (x: Value, shape: readonly number[]): Value => b.op('Expand', [x, i64(shape)]),
    transpose: (x: Value, perm: readonly number[]): Value => b.op('Transpose', [x], { perm: attr.is(perm) }),
    concat: (xs: readonly Value[], axis: number): Value => b.op('Concat', xs, { axis: attr.i(axis) }),
    unsqueeze: (x: Value, axes: readonly number[]): Value => b.op('Unsqueeze', [x, i64(axes)]),
    squeeze: (x: Value, axes: readonly number[]): Value => b.op('Squeeze', [x, i64(axes)]),
    slice: (x: Value, starts: readonly number[], ends: readonly number[], axes: readonly number[], steps?: readonly number[]): Value =>
      b.op('Slice', [x, i64(starts), i64(ends), i64(axes), ...(steps ? [i64(steps)] : [])]),
    pad: (x: Value, pads: readonly number[]): Value => b.op('Pad', [x, i64(pads)]),
    matmul: binary('MatMul'),
    gemm: (a: Value, w: Value, c: Value | null, o: { transA?: boolean; transB?: boolean; alpha?: number; beta?: number } = {}): Value => {
      const attrs: Attrs = {
        transA: attr.i(o.transA ? 1 : 0),
        transB: attr.i(o.transB ? 1 : 0),
        alpha: attr.f(o.alpha ?? 1),
        beta: attr.f(o.beta ?? 1),
      };
      return b.op('Gemm', c ? [a, w, c] : [a, w], attrs);
    },
    conv: (x: Value, w: Value, bias: Value | null, o: ConvOptions = {}): Value =>
      b.op('Conv', bias ? [x, w, bias] : [x, w], convAttrs(w, o)),
    convTranspose: (x: Value, w: Value, bias: Value | null, o: ConvOptions = {}): Value =>
      b.op('ConvTranspose', bias ? [x, w, bias] : [x, w], convAttrs(w, o)),
    /** Training-mode Dropout: [y, mask]; the mask output is what its gradient rule reuses. */
    dropout: (x: Value, ratio: number, seed?: number): [Value, Value] => {
      const attrs: Attrs = seed === undefined ? {} : { seed: attr.i(seed) };
      const [y, mask] = b.emit('Dropout', [x, b.constant([ratio]), b.constant([1], 'bool')], attrs, 2);
      return [y!, mask!];
    },
  };
}

export type Ops = ReturnType<typeof ops>;
