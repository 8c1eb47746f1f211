// SPDX-License-Identifier: MIT
/**
 * @file Central-difference gradient check of our autodiff, run in ONNX Runtime. One graph per check
 * computes f(x), L = Σ v ⊙ f(x) with a random fixed v (a plain sum would miss transposed gradients)
 * and the analytic dL/dx from gradients(). Perturbed runs fetch only f(x) and form L on the host in
 * float64, so the float32 noise of the difference quotient is that of f alone.
 */
import { GraphBuilder } from '../../training/onnx/builder.ts';
import { numel, shapeStr } from '../../training/onnx/ir.ts';
import type { Shape, Value } from '../../training/onnx/ir.ts';
import { ops } from '../../training/onnx/ops.ts';
import { serialize } from '../../training/onnx/serialize.ts';
import { gradients } from '../../training/autodiff/backward.ts';
import { createSession } from '../../training/runtime/ort.ts';
import type { HostTensor } from '../../training/runtime/ort.ts';
import { Rng } from '../../common/rng.ts';

/** Values for an input: an array, or a function of a seeded stream and the flat index. */
export type Init = Float32Array | readonly number[] | ((rng: Rng, index: number) => number);

export interface GradcheckInput {
  name: string;
  shape: Shape;
  /** Default: standard normal. Keep values off kinks (Relu/Abs at 0) and out of poles. */
  init?: Init;
  /** false: a constant of the check (declared `{grad: false}`, not checked). Default true. */
  grad?: boolean;
}

export interface GradcheckOptions {
  build: (b: GraphBuilder, inputs: Value[]) => Value;
  inputs: readonly GradcheckInput[];
  seed?: number;
  eps?: number;
  atol?: number;
  rtol?: number;
}

export interface GradcheckReport {
  /** Largest |analytic − numeric| over every checked element. */
  maxAbsError: number;
  checked: number;
  /** Forward + backward node count of the graph (shows pruning at a glance). */
  nodes: number;
}

const f32 = (x: number): number => Math.fround(x);

function fill(input: GradcheckInput, rng: Rng): Float32Array {
  const n = numel(input.shape);
  const init = input.init;
  const data = new Float32Array(n);
  if (init && typeof init !== 'function' && init.length !== n) {
    throw new Error(`gradcheck input ${input.name}: ${init.length} values for shape ${shapeStr(input.shape)}`);
  }
  if (typeof init === 'function') for (let i = 0; i < n; i++) data[i] = init(rng, i);
  else if (init) data.set(init);
  else rng.fillNormal(data);
  return data;
}

function indexOf(shape: Shape, flat: number): string {
  const idx: number[] = [];
  let rest = flat;
  for (let k = shape.length - 1; k >= 0; k--) {
    idx.unshift(rest % shape[k]!);
    rest = Math.floor(rest / shape[k]!);
  }
  return `[${idx.join(',')}]`;
}

/** Σ v·y in float64. */
function weightedSum(v: Float32Array, y: HostTensor): number {
  const data = y.data as Float32Array;
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * data[i]!;
  return s;
}

function buildCheck(o: GradcheckOptions) {
  const b = new GraphBuilder('gradcheck');
  const xs = o.inputs.map((inp) => b.input(inp.name, 'float32', inp.shape, { grad: inp.grad ?? true }));
  const y = o.build(b, xs);
  if (y.dtype !== 'float32') throw new Error(`gradcheck: f must return float32, got ${y.dtype}`);
  const v = b.input('gradcheck_v', 'float32', y.shape, { grad: false });
  const op = ops(b);
  const loss = op.reduceSum(op.mul(y, v), [], false);
  const checked = o.inputs.map((inp, i) => ({ inp, x: xs[i]! })).filter(({ inp }) => inp.grad ?? true);
  const grads = gradients(
    b,
    loss,
    checked.map(({ x }) => x),
  );
  b.output(y, 'gradcheck_y');
  grads.forEach((g, i) => b.output(g, `gradcheck_grad_${i}`));
  return { bytes: serialize(b.build()), checked, nodes: b.nodeList.length, vShape: y.shape };
}

/** Throws with seed, input, index and both values at the first element out of tolerance. */
export async function gradcheck(o: GradcheckOptions): Promise<GradcheckReport> {
  const seed = o.seed ?? 1;
  const eps = o.eps ?? 1e-2;
  const atol = o.atol ?? 1e-3;
  const rtol = o.rtol ?? 1e-2;
  const rng = new Rng(seed);
  const { bytes, checked, nodes, vShape } = buildCheck(o);
  const feeds: Record<string, HostTensor> = {};
  for (const inp of o.inputs) feeds[inp.name] = { dtype: 'float32', shape: inp.shape, data: fill(inp, rng) };
  const v = rng.fillUniform(new Float32Array(numel(vShape)), -1, 1);
  feeds.gradcheck_v = { dtype: 'float32', shape: vShape, data: v };
  const session = await createSession(bytes, { threads: 1 });
  try {
    const base = await session.run(feeds);
    let maxAbsError = 0;
    let count = 0;
    for (const [k, { inp }] of checked.entries()) {
      const analytic = base[`gradcheck_grad_${k}`]!.data as Float32Array;
      const x = feeds[inp.name]!.data as Float32Array;
      for (let i = 0; i < x.length; i++) {
        const x0 = x[i]!;
        const [hi, lo] = [f32(x0 + eps), f32(x0 - eps)];
        x[i] = hi;
        const up = weightedSum(v, (await session.run(feeds, ['gradcheck_y'])).gradcheck_y!);
        x[i] = lo;
        const down = weightedSum(v, (await session.run(feeds, ['gradcheck_y'])).gradcheck_y!);
        x[i] = x0;
        const numeric = (up - down) / (hi - lo);
        const a = analytic[i]!;
        const err = Math.abs(a - numeric);
        if (!(err <= atol + rtol * Math.abs(numeric))) {
          throw new Error(
            `gradcheck failed (seed ${seed}): input "${inp.name}" ${shapeStr(inp.shape)} index ${indexOf(inp.shape, i)} ` +
              `(x = ${x0}): analytic ${a} vs numeric ${numeric} (|diff| ${err.toExponential(3)}, atol ${atol}, rtol ${rtol})`,
          );
        }
        maxAbsError = Math.max(maxAbsError, err);
        count++;
      }
    }
    return { maxAbsError, checked: count, nodes };
  } finally {
    await session.release();
  }
}

/** Inputs away from 0 (kinks of Relu/Abs/LeakyRelu): |x| ∈ [lo, hi] with a random sign. */
export const offZero =
  (lo = 0.2, hi = 1.5) =>
  (rng: Rng): number =>
    (rng.uniform() < 0.5 ? -1 : 1) * (lo + (hi - lo) * rng.uniform());

/** Strictly positive inputs in [lo, hi] (Log, Sqrt, Reciprocal, Pow with fractional exponents). */
export const positive =
  (lo = 0.5, hi = 2) =>
  (rng: Rng): number =>
    lo + (hi - lo) * rng.uniform();

/**
 * Build a graph with the given outputs, run it once in ORT and return the outputs in order
 * (hand-computed cases). Every output goes through a named Identity, so constants and repeated
 * values are valid graph outputs.
 */
export async function runGraph(
  b: GraphBuilder,
  outputs: readonly Value[],
  feeds: Readonly<Record<string, HostTensor>> = {},
): Promise<HostTensor[]> {
  const names = outputs.map((v, i) => b.output(v, `run_out_${i}`).name);
  const session = await createSession(serialize(b.build()), { threads: 1 });
  try {
    const result = await session.run(feeds);
    return names.map((n) => result[n]!);
  } finally {
    await session.release();
  }
}

/** A float32 feed. */
export const feed = (shape: Shape, values: readonly number[]): HostTensor => ({
  dtype: 'float32',
  shape,
  data: Float32Array.from(values),
});
