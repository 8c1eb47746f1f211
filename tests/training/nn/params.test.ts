// SPDX-License-Identifier: MIT
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../../common/rng.ts';
import { GraphBuilder } from '../../../training/onnx/builder.ts';
import { aliasesOf, initParams, ParamSet } from '../../../training/nn/params.ts';
import { bufferUpdates, createContext } from '../../../training/nn/context.ts';
import { conv2d } from '../../../training/nn/layers.ts';

void test('params and buffers are graph inputs named with the prefix; trainable decides grad', () => {
  const b = new GraphBuilder('p');
  const live = new ParamSet(b);
  const frozen = new ParamSet(b, { prefix: 'frozen.', trainable: false });
  const w = live.param('enc.weight', [4, 3], { kind: 'zeros' });
  const fw = frozen.param('enc.weight', [4, 3], { kind: 'zeros' });
  const rm = live.buffer('bn.running_mean', [4], { kind: 'zeros' });
  assert.equal(w.name, 'enc.weight');
  assert.equal(fw.name, 'frozen.enc.weight');
  assert.equal(w.noGrad, false);
  assert.equal(fw.noGrad, true);
  assert.equal(rm.noGrad, true, 'buffers never take gradients');
  assert.equal(w.producer, null);
  b.output(w, 'out');
  assert.deepEqual(
    b.build().inputs.map((v) => v.name),
    ['enc.weight', 'frozen.enc.weight', 'bn.running_mean'],
  );
  assert.equal(b.build().initializers.length, 0, 'no initializers in a training graph');
});

void test('redeclaring a name returns the same input; a different shape or role throws', () => {
  const b = new GraphBuilder('p');
  const ps = new ParamSet(b);
  const ctx = createContext(b, ps, true);
  const x = b.input('x', 'float32', [2, 3, 8, 8], { grad: false });
  const y1 = conv2d(ctx, 'c', x, { out: 3, kernel: 3, padding: 1 });
  conv2d(ctx, 'c', y1, { out: 3, kernel: 3, padding: 1 });
  assert.deepEqual(
    ps.decls().map((d) => [d.name, d.shape, d.role]),
    [
      ['c.weight', [3, 3, 3, 3], 'param'],
      ['c.bias', [3], 'param'],
    ],
  );
  assert.throws(() => ps.param('c.weight', [3, 3, 1, 1], { kind: 'zeros' }), /redeclared/);
  assert.throws(() => ps.buffer('c.bias', [3], { kind: 'zeros' }), /redeclared/);
  assert.equal(ps.values().get('c.weight')?.name, 'c.weight');
  assert.deepEqual(bufferUpdates(ctx), []);
});

void test('initParams: seeded, declaration order, N(mean, std) / zeros / ones', () => {
  const b = new GraphBuilder('p');
  const ps = new ParamSet(b);
  ps.param('w', [64, 32, 4, 4], { kind: 'normal', mean: 0, std: 0.02 });
  ps.param('g', [7], { kind: 'ones' });
  ps.buffer('m', [7], { kind: 'zeros' });
  ps.param('n1', [10000], { kind: 'normal', mean: 1, std: 0.5 });
  const values = initParams(ps.decls(), new Rng(3));
  const w = values.get('w')!;
  const mean = w.reduce((a, v) => a + v, 0) / w.length;
  const std = Math.sqrt(w.reduce((a, v) => a + (v - mean) ** 2, 0) / w.length);
  assert.ok(Math.abs(mean) < 0.02 * 0.05, `mean ${mean}`);
  assert.ok(Math.abs(std - 0.02) < 0.02 * 0.03, `std ${std}`);
  assert.deepEqual([...values.get('g')!], new Array(7).fill(1));
  assert.deepEqual([...values.get('m')!], new Array(7).fill(0));
  const n1 = values.get('n1')!;
  assert.ok(Math.abs(n1.reduce((a, v) => a + v, 0) / n1.length - 1) < 0.03);
  assert.deepEqual(initParams(ps.decls(), new Rng(3)).get('n1'), n1, 'same seed, same values');
  assert.notDeepEqual(initParams(ps.decls(), new Rng(4)).get('n1'), n1);
});

void test('aliasesOf maps every frozen-copy input to the live input of the same name', () => {
  const b = new GraphBuilder('p');
  const live = new ParamSet(b);
  const frozen = new ParamSet(b, { prefix: 'frozen.', trainable: false });
  const x = b.input('x', 'float32', [2, 3, 8, 8], { grad: false });
  conv2d(createContext(b, live, true), 'c', x, { out: 4, kernel: 3 });
  conv2d(createContext(b, frozen, true), 'c', x, { out: 4, kernel: 3 });
  assert.deepEqual(aliasesOf(frozen, live), { 'frozen.c.weight': 'c.weight', 'frozen.c.bias': 'c.bias' });
  frozen.param('extra', [1], { kind: 'zeros' });
  assert.throws(() => aliasesOf(frozen, live), /frozen\.extra has no matching/);
});
