// SPDX-License-Identifier: MIT
// BatchNorm (train / eval, PyTorch running-stat semantics) and GroupNorm against float64 references.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../../common/rng.ts';
import { GraphBuilder } from '../../../training/onnx/builder.ts';
import type { HostTensor } from '../../../training/runtime/ort.ts';
import { ParamSet } from '../../../training/nn/params.ts';
import { bufferUpdates, createContext } from '../../../training/nn/context.ts';
import { batchNorm2d, groupNorm, norm2d } from '../../../training/nn/layers.ts';
import { outputNext } from '../../../training/nn/next.ts';
import { runGraph } from '../../support/gradcheck.ts';
import { channelStats, groupNormRef, normalizeRef, relErr } from './reference.ts';
import type { Tensor4 } from './reference.ts';

const SHAPE: [number, number, number, number] = [4, 3, 5, 5];
const M = 4 * 5 * 5;

/** Input with a different offset and scale per channel, plus non-trivial γ, β and running stats. */
function fixture(seed: number) {
  const rng = new Rng(seed);
  const x = new Float32Array(4 * 3 * 25);
  for (let i = 0; i < x.length; i++) {
    const c = Math.floor(i / 25) % 3;
    x[i] = (c - 1) * 2 + (0.5 + c) * rng.normal();
  }
  const f = (vals: number[]) => Float32Array.from(vals);
  return { x, gamma: f([1.5, 0.5, -1]), beta: f([0.1, -0.2, 0.3]), rm: f([0.2, -0.1, 0.4]), rv: f([1.2, 0.8, 2]) };
}

function feeds(fx: ReturnType<typeof fixture>): Record<string, HostTensor> {
  const t = (shape: number[], data: Float32Array): HostTensor => ({ dtype: 'float32', shape, data });
  return {
    x: t([...SHAPE], fx.x),
    'bn.weight': t([3], fx.gamma),
    'bn.bias': t([3], fx.beta),
    'bn.running_mean': t([3], fx.rm),
    'bn.running_var': t([3], fx.rv),
  };
}

void test('batchNorm2d (train): batch statistics, and running stats updated as PyTorch (unbiased var, m = 0.1)', async () => {
  const b = new GraphBuilder('bn');
  const ps = new ParamSet(b);
  const ctx = createContext(b, ps, true);
  const y = batchNorm2d(ctx, 'bn', b.input('x', 'float32', SHAPE, { grad: false }));
  assert.deepEqual(
    ps.decls().map((d) => [d.name, d.role, d.init.kind]),
    [
      ['bn.weight', 'param', 'ones'],
      ['bn.bias', 'param', 'zeros'],
      ['bn.running_mean', 'buffer', 'zeros'],
      ['bn.running_var', 'buffer', 'ones'],
    ],
  );
  const updates = bufferUpdates(ctx);
  assert.deepEqual(
    updates.map((u) => u.input.name),
    ['bn.running_mean', 'bn.running_var'],
  );
  const fx = fixture(1);
  const [out, rm, rv] = await runGraph(b, [y, updates[0]!.next, updates[1]!.next], feeds(fx));
  const xt: Tensor4 = { shape: SHAPE, data: fx.x };
  const { mean, variance } = channelStats(xt);
  assert.ok(relErr(out!.data as Float32Array, normalizeRef(xt, mean, variance, fx.gamma, fx.beta, 1e-5)) < 1e-5);
  const rmRef = mean.map((mu, c) => 0.9 * fx.rm[c]! + 0.1 * mu);
  const rvRef = variance.map((v, c) => 0.9 * fx.rv[c]! + 0.1 * v * (M / (M - 1)));
  assert.ok(relErr(rm!.data as Float32Array, rmRef) < 1e-5, `running mean ${String(rm!.data)} vs ${String(rmRef)}`);
  assert.ok(relErr(rv!.data as Float32Array, rvRef) < 1e-5, `running var ${String(rv!.data)} vs ${String(rvRef)}`);
});

void test('batchNorm2d applied twice in one context chains the running-stat updates', async () => {
  const b = new GraphBuilder('bn2');
  const ctx = createContext(b, new ParamSet(b), true);
  const x = b.input('x', 'float32', SHAPE, { grad: false });
  batchNorm2d(ctx, 'bn', x);
  batchNorm2d(ctx, 'bn', b.op('Mul', [x, b.constant([2])]));
  outputNext(b, bufferUpdates(ctx));
  const fx = fixture(2);
  const [rm] = await runGraph(b, [ctx.buffers.get('bn.running_mean')!], feeds(fx));
  const mu = channelStats({ shape: SHAPE, data: fx.x }).mean;
  const ref = mu.map((m, c) => 0.9 * (0.9 * fx.rm[c]! + 0.1 * m) + 0.1 * 2 * m);
  assert.ok(relErr(rm!.data as Float32Array, ref) < 1e-5, `chained running mean ${String(rm!.data)} vs ${String(ref)}`);
  assert.ok(
    b.build().outputs.some((v) => v.name === 'bn.running_var.next'),
    'bn.running_var.next is an output',
  );
});

void test('batchNorm2d (eval): normalises by the running statistics and updates nothing', async () => {
  const b = new GraphBuilder('bn-eval');
  const ctx = createContext(b, new ParamSet(b), false);
  const y = batchNorm2d(ctx, 'bn', b.input('x', 'float32', SHAPE, { grad: false }), { eps: 1e-3 });
  assert.deepEqual(bufferUpdates(ctx), []);
  const fx = fixture(3);
  const [out] = await runGraph(b, [y], feeds(fx));
  const ref = normalizeRef({ shape: SHAPE, data: fx.x }, [...fx.rm], [...fx.rv], fx.gamma, fx.beta, 1e-3);
  assert.ok(relErr(out!.data as Float32Array, ref) < 1e-5);
  const { mean, variance } = channelStats({ shape: SHAPE, data: fx.x });
  const trainLike = normalizeRef({ shape: SHAPE, data: fx.x }, mean, variance, fx.gamma, fx.beta, 1e-3);
  assert.ok(relErr(out!.data as Float32Array, trainLike) > 0.05, 'eval must differ from batch statistics');
});

void test('groupNorm matches a float64 reference (per sample, per group of channels)', async () => {
  const shape: [number, number, number, number] = [2, 6, 3, 4];
  const b = new GraphBuilder('gn');
  const ps = new ParamSet(b);
  const ctx = createContext(b, ps, true);
  const y = groupNorm(ctx, 'gn', b.input('x', 'float32', shape, { grad: false }), { groups: 3 });
  assert.deepEqual(
    ps.decls().map((d) => [d.name, d.shape, d.init.kind]),
    [
      ['gn.weight', [6], 'ones'],
      ['gn.bias', [6], 'zeros'],
    ],
  );
  const rng = new Rng(5);
  const x = new Float32Array(2 * 6 * 12).map((_, i) => (i % 5) - 1 + rng.normal() * (1 + (i % 3)));
  const gamma = rng.fillNormal(new Float32Array(6), 1, 0.5);
  const beta = rng.fillNormal(new Float32Array(6), 0, 0.5);
  const t = (s: number[], data: Float32Array): HostTensor => ({ dtype: 'float32', shape: s, data });
  const [out] = await runGraph(b, [y], { x: t([...shape], x), 'gn.weight': t([6], gamma), 'gn.bias': t([6], beta) });
  assert.deepEqual(out!.shape, shape);
  assert.ok(relErr(out!.data as Float32Array, groupNormRef({ shape, data: x }, 3, gamma, beta, 1e-5)) < 1e-5);
  assert.throws(() => groupNorm(ctx, 'gn2', b.input('z', 'float32', shape), { groups: 4 }), /groups/);
});

void test('norm2d dispatches on kind', () => {
  const b = new GraphBuilder('norm');
  const ps = new ParamSet(b);
  const ctx = createContext(b, ps, true);
  const x = b.input('x', 'float32', [2, 4, 3, 3]);
  assert.equal(norm2d(ctx, 'n0', x, 'none'), x);
  norm2d(ctx, 'n1', x, 'batch');
  norm2d(ctx, 'n2', x, 'group', 2);
  assert.deepEqual(
    ps.decls().map((d) => d.name),
    ['n1.weight', 'n1.bias', 'n1.running_mean', 'n1.running_var', 'n2.weight', 'n2.bias'],
  );
});
