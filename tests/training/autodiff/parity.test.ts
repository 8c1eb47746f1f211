// SPDX-License-Identifier: MIT
/**
 * Parity with PyTorch 1.13 autograd and torch.optim.Adam on the fixtures written by
 * scripts/make-fixtures.py (tests/fixtures/autodiff/*.json): the same seeded inputs are fed to our
 * graphs, run in ONNX Runtime, and every tensor must agree within 1e-5 of its largest |value|.
 * Each test prints its worst error per tensor (the table in the README).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { GraphBuilder } from '../../../training/onnx/builder.ts';
import type { Shape, Value } from '../../../training/onnx/ir.ts';
import { ops } from '../../../training/onnx/ops.ts';
import { serialize } from '../../../training/onnx/serialize.ts';
import { gradients } from '../../../training/autodiff/backward.ts';
import { weightGradDilated, weightGradIm2col } from '../../../training/autodiff/rules/conv.ts';
import type { ConvGeometry } from '../../../training/autodiff/rules/conv.ts';
import { createSession } from '../../../training/runtime/ort.ts';
import type { HostTensor } from '../../../training/runtime/ort.ts';
import { ParamSet } from '../../../training/nn/params.ts';
import { bufferUpdates, createContext } from '../../../training/nn/context.ts';
import { batchNorm2d, conv2d, convTranspose2d, groupNorm } from '../../../training/nn/layers.ts';
import { nextName, outputNext } from '../../../training/nn/next.ts';
import { adamConfig, adamInitialState, adamStepScalars, emitAdam } from '../../../training/optim/adam.ts';

const TOLERANCE = 1e-5;

interface FixtureTensor {
  shape: number[];
  f32: string;
}

interface Fixture {
  inputs: Record<string, FixtureTensor>;
  expected: Record<string, FixtureTensor>;
}

/** The parsed fixture file; callers assert its layout with a type (written by make-fixtures.py). */
function loadFixture(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`../../fixtures/autodiff/${name}.json`, import.meta.url), 'utf8'));
}

function tensor(t: FixtureTensor | undefined): HostTensor {
  if (!t) throw new Error('fixture tensor missing');
  const bytes = Buffer.from(t.f32, 'base64');
  const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  return { dtype: 'float32', shape: t.shape, data };
}

/** Compares and records max |ours − torch| / max |torch| per tensor; prints the case's table. */
class ParityTable {
  private readonly rows: string[] = [];
  private readonly failures: string[] = [];

  constructor(private readonly title: string) {}

  check(label: string, actual: HostTensor | undefined, expected: HostTensor): void {
    if (!actual) throw new Error(`${this.title}: no output for ${label}`);
    assert.deepEqual([...actual.shape], [...expected.shape], `${this.title} ${label}: shape`);
    const a = actual.data as Float32Array;
    const e = expected.data as Float32Array;
    let err = 0;
    let scale = 0;
    e.forEach((v, i) => {
      err = Math.max(err, Math.abs(a[i]! - v));
      scale = Math.max(scale, Math.abs(v));
    });
    const rel = scale > 0 ? err / scale : err;
    this.rows.push(`| ${this.title} | ${label} | ${err.toExponential(1)} | ${rel.toExponential(1)} |`);
    if (!(rel <= TOLERANCE)) this.failures.push(`${label}: relative error ${rel.toExponential(2)}`);
  }

  finish(): void {
    console.log(['| case | tensor | max abs error | relative |', '|---|---|---:|---:|', ...this.rows].join('\n'));
    assert.deepEqual(this.failures, [], `${this.title}: tensors beyond ${TOLERANCE}`);
  }
}

async function runOnce(b: GraphBuilder, feeds: Record<string, HostTensor>): Promise<Record<string, HostTensor>> {
  const session = await createSession(serialize(b.build()), { threads: 1 });
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

/** L = Σ y·g with the stored probe g (a graph input without gradient). */
function dotLoss(b: GraphBuilder, y: Value, g: Value): Value {
  const o = ops(b);
  return o.reduceSum(o.mul(y, g), [], false);
}

interface OddCase extends Fixture {
  attrs: { kind: 'conv' | 'convT'; k: number; stride: number; pad: number; dilation: number; output_padding: number };
}

void test('parity: odd-size Conv / ConvTranspose geometries, both weight-gradient formulations', async () => {
  const { cases } = loadFixture('odd-conv') as { cases: Record<string, OddCase> };
  const table = new ParityTable('odd-conv');
  for (const [name, c] of Object.entries(cases)) {
    const { kind, k, stride: s, pad: p, dilation: d, output_padding: op } = c.attrs;
    const feeds = Object.fromEntries(Object.entries(c.inputs).map(([key, t]) => [key, tensor(t)]));
    const b = new GraphBuilder(name);
    const o = ops(b);
    const [x, w, bias] = ['x', 'w', 'b'].map((key) => b.input(key, 'float32', feeds[key]!.shape)) as [Value, Value, Value];
    const geometry: ConvGeometry = { kernel: [k, k], strides: [s, s], pads: [p, p, p, p], dilations: [d, d], outputPadding: [op, op] };
    const opts = { strides: geometry.strides, pads: geometry.pads, dilations: geometry.dilations };
    const y = kind === 'conv' ? o.conv(x, w, bias, opts) : o.convTranspose(x, w, bias, { ...opts, outputPadding: geometry.outputPadding });
    const g = b.input('g', 'float32', y.shape, { grad: false });
    const [gx, gw, gb] = gradients(b, dotLoss(b, y, g), [x, w, bias]);
    // dL/dY = g, so the two formulations can be fed g directly (Conv samples X, ConvT samples dY)
    const [sampled, other] = kind === 'conv' ? [x, g] : [g, x];
    const named: [string, Value][] = [
      ['y', y],
      ['grad_x', gx!],
      ['grad_w', gw!],
      ['grad_b', gb!],
      ['grad_w(im2col)', weightGradIm2col(o, sampled, other, geometry)],
      ['grad_w(dilated)', weightGradDilated(o, sampled, other, geometry)],
    ];
    named.forEach(([label, v]) => b.output(v, label));
    const out = await runOnce(b, feeds);
    for (const [label] of named) table.check(`${name} ${label}`, out[label], tensor(c.expected[label.replace(/\(.*\)$/, '')]));
  }
  table.finish();
});

function buildDcganStep(b: GraphBuilder, shape: Shape) {
  const o = ops(b);
  const params = new ParamSet(b);
  const ctx = createContext(b, params, true);
  const x = b.input('x', 'float32', shape);
  const target = b.input('target', 'float32', shape, { grad: false });
  let h = conv2d(ctx, 'enc', x, { out: 8, kernel: 4, stride: 2, padding: 1, bias: false });
  h = o.leakyRelu(batchNorm2d(ctx, 'bn', h), 0.2);
  const y = o.tanh(convTranspose2d(ctx, 'dec', h, { out: 1, kernel: 4, stride: 2, padding: 1, bias: true }));
  const loss = o.reduceMean(o.abs(o.sub(y, target)), [0, 1, 2, 3], false);
  const trainable = params
    .decls()
    .filter((dcl) => dcl.role === 'param')
    .map((dcl) => dcl.name);
  const values = params.values();
  const grads = gradients(b, loss, [x, ...trainable.map((n) => values.get(n)!)]);
  const cfg = adamConfig({ beta1: 0.5, beta2: 0.999 });
  const adam = emitAdam(
    b,
    trainable.map((name, i) => ({ name, value: values.get(name)!, grad: grads[i + 1]! })),
    cfg,
  );
  b.output(loss, 'loss');
  b.output(y, 'y');
  b.output(grads[0]!, 'grad_x');
  trainable.forEach((n, i) => b.output(grads[i + 1]!, `grad_${n}`));
  const state = [...adam.state, ...bufferUpdates(ctx)];
  outputNext(b, state);
  return { cfg, adam, state };
}

// PyTorch names of the fixture's tensors
const DCGAN_NAMES: Record<string, string> = {
  w1: 'enc.weight',
  gamma: 'bn.weight',
  beta: 'bn.bias',
  w2: 'dec.weight',
  b2: 'dec.bias',
  running_mean: 'bn.running_mean',
  running_var: 'bn.running_var',
};

void test('parity: DCGAN block (Conv → BN(train) → LeakyReLU → ConvT → Tanh, L1): gradients, BN stats, 3 Adam steps', async () => {
  const f = loadFixture('dcgan-block') as Fixture;
  const x = tensor(f.inputs.x);
  const b = new GraphBuilder('dcgan-block');
  const { cfg, adam, state } = buildDcganStep(b, x.shape);
  const session = await createSession(serialize(b.build()), { threads: 1 });
  const feeds: Record<string, HostTensor> = { x, target: x };
  for (const [key, name] of Object.entries(DCGAN_NAMES)) feeds[name] = tensor(f.inputs[key]);
  for (const [name, data] of adamInitialState(adam)) feeds[name] = { dtype: 'float32', shape: [data.length], data };
  for (const m of adam.moments) feeds[m.name] = { ...feeds[m.name]!, shape: m.shape };
  const table = new ParityTable('dcgan-block');
  const losses: number[] = [];
  try {
    for (let step = 1; step <= 3; step++) {
      for (const [name, data] of Object.entries(adamStepScalars(2e-3, step, cfg))) feeds[name] = { dtype: 'float32', shape: [], data };
      const out = await session.run(feeds);
      losses.push((out.loss!.data as Float32Array)[0]!);
      if (step === 1) {
        table.check('y', out.y, tensor(f.expected.y));
        table.check('grad_x', out.grad_x, tensor(f.expected.grad_x));
        for (const key of ['w1', 'gamma', 'beta', 'w2', 'b2'])
          table.check(`grad ${DCGAN_NAMES[key]!}`, out[`grad_${DCGAN_NAMES[key]!}`], tensor(f.expected[`grad_${key}`]));
      }
      for (const s of state) feeds[s.input.name] = out[nextName(s.input.name)]!;
      if (step !== 2) {
        for (const key of ['w1', 'gamma', 'beta', 'w2', 'b2', 'running_mean', 'running_var']) {
          table.check(`${DCGAN_NAMES[key]!} after step ${step}`, feeds[DCGAN_NAMES[key]!], tensor(f.expected[`${key}_${step}`]));
        }
      }
    }
  } finally {
    await session.release();
  }
  table.check('loss, steps 1-3', { dtype: 'float32', shape: [3], data: Float32Array.from(losses) }, tensor(f.expected.loss));
  table.finish();
});

void test('parity: Conv → GroupNorm(2 groups) → LeakyReLU block', async () => {
  const f = loadFixture('group-norm') as Fixture;
  const b = new GraphBuilder('group-norm');
  const params = new ParamSet(b);
  const ctx = createContext(b, params, true);
  const x = b.input('x', 'float32', f.inputs.x!.shape);
  const h = groupNorm(ctx, 'gn', conv2d(ctx, 'conv', x, { out: 4, kernel: 3, padding: 1 }), { groups: 2 });
  const y = ctx.o.leakyRelu(h, 0.2);
  const g = b.input('g', 'float32', y.shape, { grad: false });
  const names: Record<string, string> = { w: 'conv.weight', b: 'conv.bias', gamma: 'gn.weight', beta: 'gn.bias' };
  const values = params.values();
  const grads = gradients(b, dotLoss(b, y, g), [x, ...Object.values(names).map((n) => values.get(n)!)]);
  b.output(y, 'y');
  ['x', ...Object.keys(names)].forEach((key, i) => b.output(grads[i]!, `grad_${key}`));
  const feeds: Record<string, HostTensor> = { x: tensor(f.inputs.x), g: tensor(f.inputs.g) };
  for (const [key, name] of Object.entries(names)) feeds[name] = tensor(f.inputs[key]);
  const out = await runOnce(b, feeds);
  const table = new ParityTable('group-norm');
  for (const label of ['y', 'grad_x', ...Object.keys(names).map((k) => `grad_${k}`)])
    table.check(label, out[label], tensor(f.expected[label]));
  table.finish();
});

void test('parity: op zoo (Gemm transB + bias, Relu, MatMul, Sigmoid, broadcast Mul/Add, Reshape, ReduceMean)', async () => {
  const f = loadFixture('op-zoo') as Fixture;
  const b = new GraphBuilder('op-zoo');
  const o = ops(b);
  const keys = ['x', 'w1', 'b1', 'w2', 's', 't'];
  const [x, w1, b1, w2, s, t] = keys.map((k) => b.input(k, 'float32', f.inputs[k]!.shape)) as [Value, Value, Value, Value, Value, Value];
  const hidden = o.relu(o.gemm(x, w1, b1, { transB: true }));
  const h = o.add(o.mul(o.sigmoid(o.matmul(hidden, w2)), s), t);
  const y = o.reduceMean(o.reshape(h, [2, 6]), [1], true);
  const g = b.input('g', 'float32', y.shape, { grad: false });
  const grads = gradients(b, dotLoss(b, y, g), [x, w1, b1, w2, s, t]);
  b.output(y, 'y');
  keys.forEach((k, i) => b.output(grads[i]!, `grad_${k}`));
  const out = await runOnce(b, Object.fromEntries(Object.entries(f.inputs).map(([k, v]) => [k, tensor(v)])));
  const table = new ParityTable('op-zoo');
  for (const label of ['y', ...keys.map((k) => `grad_${k}`)]) table.check(label, out[label], tensor(f.expected[label]));
  table.finish();
});
