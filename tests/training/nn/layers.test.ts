// SPDX-License-Identifier: MIT
// Conv / ConvTranspose / Linear emitters: declarations, static shapes, and values in ORT against naive references.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../../common/rng.ts';
import { GraphBuilder } from '../../../training/onnx/builder.ts';
import type { Value } from '../../../training/onnx/ir.ts';
import type { HostTensor } from '../../../training/runtime/ort.ts';
import { initParams, ParamSet } from '../../../training/nn/params.ts';
import { createContext } from '../../../training/nn/context.ts';
import type { NnContext } from '../../../training/nn/context.ts';
import { conv2d, convTranspose2d, linear } from '../../../training/nn/layers.ts';
import { runGraph } from '../../support/gradcheck.ts';
import { conv2dRef, convTranspose2dRef, relErr } from './reference.ts';
import type { Tensor4 } from './reference.ts';

type Shape4 = [number, number, number, number];

/** Build `layer` on a random input, run it in ORT with seeded N(0,0.02)-style params made larger. */
async function runLayer(xShape: number[], layer: (ctx: NnContext, x: Value) => Value) {
  const b = new GraphBuilder('layer');
  const ps = new ParamSet(b);
  const ctx = createContext(b, ps, true);
  const x = b.input('x', 'float32', xShape, { grad: false });
  const y = layer(ctx, x);
  const rng = new Rng(11);
  const values = initParams(ps.decls(), rng);
  // Non-zero biases so a dropped bias would show.
  for (const [name, v] of values) if (name.endsWith('.bias')) rng.fillNormal(v, 0, 0.5);
  const xData = rng.fillNormal(new Float32Array(xShape.reduce((a, d) => a * d, 1)), 0, 1);
  const feeds: Record<string, HostTensor> = { x: { dtype: 'float32', shape: xShape, data: xData } };
  for (const d of ps.decls()) feeds[d.name] = { dtype: 'float32', shape: d.shape, data: values.get(d.name)! };
  const [out] = await runGraph(b, [y], feeds);
  return { decls: ps.decls(), staticShape: y.shape, out: out!, xData, values };
}

const t4 = (shape: readonly number[], data: ArrayLike<number>): Tensor4 => ({ shape: [...shape] as Shape4, data });

void test('conv2d: PyTorch weight layout, output shape, values against a naive conv', async () => {
  const r = await runLayer([2, 3, 9, 9], (ctx, x) => conv2d(ctx, 'enc.0', x, { out: 5, kernel: 4, stride: 2, padding: 1 }));
  assert.deepEqual(
    r.decls.map((d) => [d.name, d.shape]),
    [
      ['enc.0.weight', [5, 3, 4, 4]],
      ['enc.0.bias', [5]],
    ],
  );
  assert.deepEqual(
    r.decls.map((d) => d.init),
    [{ kind: 'normal', mean: 0, std: 0.02 }, { kind: 'zeros' }],
    'DCGAN init',
  );
  assert.deepEqual(r.staticShape, [2, 5, 4, 4]);
  assert.deepEqual(r.out.shape, [2, 5, 4, 4]);
  const ref = conv2dRef(t4([2, 3, 9, 9], r.xData), t4([5, 3, 4, 4], r.values.get('enc.0.weight')!), r.values.get('enc.0.bias')!, 2, 1);
  assert.ok(relErr(r.out.data as Float32Array, ref.data) < 1e-5);
});

void test('conv2d without bias declares no bias', async () => {
  const r = await runLayer([1, 2, 5, 5], (ctx, x) => conv2d(ctx, 'c', x, { out: 4, kernel: 3, bias: false }));
  assert.deepEqual(
    r.decls.map((d) => d.name),
    ['c.weight'],
  );
  assert.deepEqual(r.out.shape, [1, 4, 3, 3]);
  const ref = conv2dRef(t4([1, 2, 5, 5], r.xData), t4([4, 2, 3, 3], r.values.get('c.weight')!), null, 1, 0);
  assert.ok(relErr(r.out.data as Float32Array, ref.data) < 1e-5);
});

void test('convTranspose2d: [in,out,k,k] weights, output padding, values against a naive reference', async () => {
  const r = await runLayer([2, 4, 3, 3], (ctx, x) =>
    convTranspose2d(ctx, 'dec.1', x, { out: 2, kernel: 3, stride: 2, padding: 1, outputPadding: 1 }),
  );
  assert.deepEqual(
    r.decls.map((d) => [d.name, d.shape]),
    [
      ['dec.1.weight', [4, 2, 3, 3]],
      ['dec.1.bias', [2]],
    ],
  );
  assert.deepEqual(r.staticShape, [2, 2, 6, 6]);
  assert.deepEqual(r.out.shape, [2, 2, 6, 6]);
  const ref = convTranspose2dRef(
    t4([2, 4, 3, 3], r.xData),
    t4([4, 2, 3, 3], r.values.get('dec.1.weight')!),
    r.values.get('dec.1.bias')!,
    2,
    1,
    1,
  );
  assert.ok(relErr(r.out.data as Float32Array, ref.data) < 1e-5);
});

void test('convTranspose2d DCGAN head: 1×1 latent to 4×4 with k4 s1 p0', async () => {
  const r = await runLayer([3, 8, 1, 1], (ctx, x) => convTranspose2d(ctx, 'dec.0', x, { out: 6, kernel: 4, bias: false }));
  assert.deepEqual(r.out.shape, [3, 6, 4, 4]);
  const ref = convTranspose2dRef(t4([3, 8, 1, 1], r.xData), t4([8, 6, 4, 4], r.values.get('dec.0.weight')!), null, 1, 0, 0);
  assert.ok(relErr(r.out.data as Float32Array, ref.data) < 1e-5);
});

void test('conv2d whose kernel covers the input (latent layer) runs as a Gemm and equals the convolution', async () => {
  const r = await runLayer([3, 4, 5, 5], (ctx, x) => conv2d(ctx, 'enc.2', x, { out: 6, kernel: 5 }));
  assert.deepEqual(
    r.decls.map((d) => [d.name, d.shape]),
    [
      ['enc.2.weight', [6, 4, 5, 5]],
      ['enc.2.bias', [6]],
    ],
  );
  assert.deepEqual(r.out.shape, [3, 6, 1, 1]);
  const ref = conv2dRef(t4([3, 4, 5, 5], r.xData), t4([6, 4, 5, 5], r.values.get('enc.2.weight')!), r.values.get('enc.2.bias')!, 1, 0);
  assert.ok(relErr(r.out.data as Float32Array, ref.data) < 1e-5);
});

void test('convTranspose2d from a 1×1 latent with bias (Gemm path) equals the transposed convolution', async () => {
  const r = await runLayer([2, 5, 1, 1], (ctx, x) => convTranspose2d(ctx, 'dec.0', x, { out: 3, kernel: 7 }));
  assert.deepEqual(r.out.shape, [2, 3, 7, 7]);
  const ref = convTranspose2dRef(
    t4([2, 5, 1, 1], r.xData),
    t4([5, 3, 7, 7], r.values.get('dec.0.weight')!),
    r.values.get('dec.0.bias')!,
    1,
    0,
    0,
  );
  assert.ok(relErr(r.out.data as Float32Array, ref.data) < 1e-5);
});

void test('linear: y = x·Wᵀ + b with W [out, in]', async () => {
  const r = await runLayer([4, 6], (ctx, x) => linear(ctx, 'fc', x, { out: 3 }));
  assert.deepEqual(
    r.decls.map((d) => [d.name, d.shape]),
    [
      ['fc.weight', [3, 6]],
      ['fc.bias', [3]],
    ],
  );
  assert.deepEqual(r.out.shape, [4, 3]);
  const w = r.values.get('fc.weight')!;
  const bias = r.values.get('fc.bias')!;
  const ref: number[] = [];
  for (let n = 0; n < 4; n++)
    for (let j = 0; j < 3; j++) {
      let acc = bias[j]!;
      for (let i = 0; i < 6; i++) acc += r.xData[n * 6 + i]! * w[j * 6 + i]!;
      ref.push(acc);
    }
  assert.ok(relErr(r.out.data as Float32Array, ref) < 1e-5);
});

void test('layers refuse inputs of the wrong rank', () => {
  const b = new GraphBuilder('bad');
  const ctx = createContext(b, new ParamSet(b), true);
  const flat = b.input('x', 'float32', [2, 6]);
  assert.throws(() => conv2d(ctx, 'c', flat, { out: 2, kernel: 1 }), /NCHW/);
  assert.throws(() => linear(ctx, 'l', b.input('y', 'float32', [2, 3, 4, 4]), { out: 2 }), /\[N,in\]/);
});
