// SPDX-License-Identifier: MIT
// Elementwise gradient rules: hand-computed cases (seeded dY, edge values, shape/dtype) and central
// differences of L = Σ v⊙f(x), with a broadcast-shape matrix for every binary op.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GraphBuilder } from '../../../training/onnx/builder.ts';
import { attr } from '../../../training/onnx/ir.ts';
import type { Shape, Value } from '../../../training/onnx/ir.ts';
import { ops } from '../../../training/onnx/ops.ts';
import type { Ops } from '../../../training/onnx/ops.ts';
import { gradients } from '../../../training/autodiff/backward.ts';
import { feed, gradcheck, offZero, positive, runGraph } from '../../support/gradcheck.ts';

/** dX of y = f(x) for a fed dY (the seed gradient), plus the values, run in ORT. */
async function unaryGrad(f: (o: Ops, x: Value) => Value, x: readonly number[], dy: readonly number[]) {
  const b = new GraphBuilder('hand');
  const o = ops(b);
  const xv = b.input('x', 'float32', [x.length]);
  const y = f(o, xv);
  const seed = b.input('dy', 'float32', y.shape, { grad: false });
  const [dx] = gradients(b, y, [xv], { seed });
  const [out] = await runGraph(b, [dx!], { x: feed([x.length], x), dy: feed(y.shape, dy) });
  assert.equal(out!.dtype, 'float32');
  assert.deepEqual(out!.shape, [x.length]);
  return Array.from(out!.data as Float32Array);
}

function close(actual: readonly number[], expected: readonly number[], tol = 1e-5): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((a, i) => {
    assert.ok(Math.abs(a - expected[i]!) <= tol, `index ${i}: ${a} vs ${expected[i]}`);
  });
}

void test('Relu passes dY where X > 0 and gives 0 at the kink X = 0', async () => {
  close(await unaryGrad((o, x) => o.relu(x), [-1, 0, 0.5, 2], [1, 2, 3, 4]), [0, 0, 3, 4]);
});

void test('LeakyRelu scales dY by alpha for X ≤ 0', async () => {
  close(await unaryGrad((o, x) => o.leakyRelu(x, 0.2), [-1, 0, 0.5], [1, 2, 3]), [0.2, 0.4, 3]);
});

void test('smooth unary rules match their closed forms', async () => {
  const x = [0.5, 1, 2];
  const dy = [1, -2, 0.5];
  const cases: [string, (o: Ops, v: Value) => Value, (t: number) => number][] = [
    ['tanh', (o, v) => o.tanh(v), (t) => 1 - Math.tanh(t) ** 2],
    ['sigmoid', (o, v) => o.sigmoid(v), (t) => Math.exp(-t) / (1 + Math.exp(-t)) ** 2],
    ['neg', (o, v) => o.neg(v), () => -1],
    ['sqrt', (o, v) => o.sqrt(v), (t) => 0.5 / Math.sqrt(t)],
    ['reciprocal', (o, v) => o.reciprocal(v), (t) => -1 / (t * t)],
    ['exp', (o, v) => o.exp(v), (t) => Math.exp(t)],
    ['log', (o, v) => o.log(v), (t) => 1 / t],
    ['pow 3', (o, v) => o.pow(v, 3), (t) => 3 * t * t],
    ['pow 2', (o, v) => o.pow(v, 2), (t) => 2 * t],
    ['pow 0.5', (o, v) => o.pow(v, 0.5), (t) => 0.5 / Math.sqrt(t)],
    ['pow 1', (o, v) => o.pow(v, 1), () => 1],
  ];
  for (const [name, f, slope] of cases) {
    const got = await unaryGrad(f, x, dy);
    close(
      got,
      x.map((t, i) => dy[i]! * slope(t)),
      1e-5,
    );
    assert.ok(got.every(Number.isFinite), name);
  }
});

void test('Abs uses Sign(X): dY, −dY and 0 at X = 0', async () => {
  close(await unaryGrad((o, x) => o.abs(x), [-2, 0, 3], [1, 1, 1]), [-1, 0, 1]);
});

void test('Pow with a non-constant exponent throws naming the node', () => {
  const b = new GraphBuilder('pow');
  const x = b.input('x', 'float32', [3]);
  const p = b.input('p', 'float32', [], { grad: false });
  const y = ops(b).reduceSum(b.op('Pow', [x, p]), [], false);
  assert.throws(() => gradients(b, y, [x]), /Pow Pow_\d+: the exponent \(input 1\) must be a constant/);
});

void test('Div: dA = dY/B and dB = −dY·A/B²', async () => {
  const b = new GraphBuilder('div');
  const o = ops(b);
  const a = b.input('a', 'float32', [2]);
  const d = b.input('d', 'float32', [2]);
  const loss = o.reduceSum(o.div(a, d), [], false);
  const [da, dd] = gradients(b, loss, [a, d]);
  const [ga, gd] = await runGraph(b, [da!, dd!], { a: feed([2], [6, -1]), d: feed([2], [3, 0.5]) });
  close(Array.from(ga!.data as Float32Array), [1 / 3, 2]);
  close(Array.from(gd!.data as Float32Array), [-6 / 9, 4]);
});

void test('Where routes dY to the chosen branch and the condition gets nothing', async () => {
  const b = new GraphBuilder('where');
  const o = ops(b);
  const x = b.input('x', 'float32', [4]);
  const z = b.input('z', 'float32', [4]);
  const y = o.where(o.greater(x, 0), x, z);
  const seed = b.input('dy', 'float32', [4], { grad: false });
  const [dx, dz] = gradients(b, y, [x, z], { seed });
  const [gx, gz] = await runGraph(b, [dx!, dz!], {
    x: feed([4], [1, -1, 2, -2]),
    z: feed([4], [0, 0, 0, 0]),
    dy: feed([4], [10, 20, 30, 40]),
  });
  close(Array.from(gx!.data as Float32Array), [10, 0, 30, 0]);
  close(Array.from(gz!.data as Float32Array), [0, 20, 0, 40]);
});

void test('Identity and Cast float→float pass dY; int casts and comparisons carry no gradient', async () => {
  close(await unaryGrad((o, x) => o.identity(x), [1, 2], [3, 4]), [3, 4]);
  close(await unaryGrad((o, x) => o.cast(x, 'float32'), [1, 2], [3, 4]), [3, 4]);
  // y = x·Cast(x > 0) + Sign(x) + Cast(Cast(x, int64)) + Cast(Not(x < 0)) + Cast(x == 2.5): only x·… counts
  const asFloat = (o: Ops, v: Value) => o.cast(v, 'float32');
  const f = (o: Ops, x: Value) =>
    o.sum([
      o.mul(x, asFloat(o, o.greater(x, 0))),
      o.sign(x),
      asFloat(o, o.cast(x, 'int64')),
      asFloat(o, o.b.op('Not', [o.less(x, 0)])),
      asFloat(o, o.b.op('Equal', [x, o.scalar(2.5)])),
    ]);
  close(await unaryGrad(f, [-1.5, 2.5], [1, 1]), [0, 1]);
});

void test('Add, Sub and Mul with broadcasting: [2,3] op [3] by hand', async () => {
  const b = new GraphBuilder('binary');
  const o = ops(b);
  const a = b.input('a', 'float32', [2, 3]);
  const c = b.input('c', 'float32', [3]);
  const seed = b.input('dy', 'float32', [2, 3], { grad: false });
  const grads = [o.add(a, c), o.sub(a, c), o.mul(a, c)].flatMap((y) => gradients(b, y, [a, c], { seed }));
  const outs = await runGraph(b, grads, {
    a: feed([2, 3], [1, 2, 3, 4, 5, 6]),
    c: feed([3], [10, 20, 30]),
    dy: feed([2, 3], [1, 1, 1, 2, 2, 2]),
  });
  assert.deepEqual(
    outs.map((t) => [...t.shape]),
    [[2, 3], [3], [2, 3], [3], [2, 3], [3]],
  );
  assert.deepEqual(
    outs.map((t) => Array.from(t.data as Float32Array)),
    [
      [1, 1, 1, 2, 2, 2],
      [3, 3, 3],
      [1, 1, 1, 2, 2, 2],
      [-3, -3, -3],
      [10, 20, 30, 20, 40, 60],
      [1 + 8, 2 + 10, 3 + 12],
    ],
  );
});

void test("Dropout (training) scales dY by the node's own mask / (1 − ratio)", async () => {
  const b = new GraphBuilder('dropout');
  const o = ops(b);
  const x = b.input('x', 'float32', [64]);
  const [y, mask] = o.dropout(x, 0.25, 7);
  const seed = b.input('dy', 'float32', [64], { grad: false });
  const [dx] = gradients(b, y, [x], { seed });
  const dy = Array.from({ length: 64 }, (_, i) => i + 1);
  const [g, m] = await runGraph(b, [dx!, o.cast(mask, 'float32')], { x: feed([64], dy), dy: feed([64], dy) });
  const kept = Array.from(m!.data as Float32Array);
  assert.ok(kept.some((k) => k === 0) && kept.some((k) => k === 1), 'mask mixes kept and dropped');
  close(
    Array.from(g!.data as Float32Array),
    dy.map((d, i) => (d * kept[i]!) / 0.75),
    1e-4,
  );
});

void test('Dropout in training mode without its mask output refuses to differentiate', () => {
  const b = new GraphBuilder('dropout1');
  const x = b.input('x', 'float32', [4]);
  const [y] = b.emit('Dropout', [x, b.constant([0.5]), b.constant([1], 'bool')], {}, 1);
  assert.throws(() => gradients(b, ops(b).reduceSum(y!, [], false), [x]), /needs the mask output/);
});

void test('Dropout in inference mode (no training_mode input) passes dY through', async () => {
  close(await unaryGrad((o, x) => o.b.op('Dropout', [x, o.scalar(0.5)]), [1, 2, 3], [4, 5, 6]), [4, 5, 6]);
});

void test('Sum (variadic) gives every input dY, reduced to its own shape', async () => {
  const b = new GraphBuilder('sum');
  const o = ops(b);
  const xs = [[2, 3], [3], [1, 1]].map((s, i) => b.input(`x${i}`, 'float32', s));
  const loss = o.reduceSum(o.sum(xs), [], false);
  const grads = gradients(b, loss, xs);
  const outs = await runGraph(b, grads, {
    x0: feed([2, 3], [1, 2, 3, 4, 5, 6]),
    x1: feed([3], [1, 2, 3]),
    x2: feed([1, 1], [1]),
  });
  assert.deepEqual(
    outs.map((t) => [...t.shape]),
    [[2, 3], [3], [1, 1]],
  );
  assert.deepEqual(
    outs.map((t) => Array.from(t.data as Float32Array)),
    [[1, 1, 1, 1, 1, 1], [2, 2, 2], [6]],
  );
});

const unaryChecks: [string, (o: Ops, x: Value) => Value, ReturnType<typeof positive> | undefined][] = [
  ['Identity', (o, x) => o.identity(x), undefined],
  ['Relu', (o, x) => o.relu(x), offZero()],
  ['LeakyRelu', (o, x) => o.leakyRelu(x, 0.2), offZero()],
  ['Tanh', (o, x) => o.tanh(x), undefined],
  ['Sigmoid', (o, x) => o.sigmoid(x), undefined],
  ['Softplus', (o, x) => o.b.op('Softplus', [x]), undefined],
  ['Neg', (o, x) => o.neg(x), undefined],
  ['Abs', (o, x) => o.abs(x), offZero()],
  ['Sqrt', (o, x) => o.sqrt(x), positive()],
  ['Reciprocal', (o, x) => o.reciprocal(x), positive()],
  ['Pow 3', (o, x) => o.pow(x, 3), undefined],
  ['Pow −1.5', (o, x) => o.pow(x, -1.5), positive()],
  ['Exp', (o, x) => o.exp(x), undefined],
  ['Log', (o, x) => o.log(x), positive()],
  ['Cast', (o, x) => o.cast(x, 'float32'), undefined],
];

void test('central differences agree for every unary rule', async () => {
  for (const [i, [name, f, init]] of unaryChecks.entries()) {
    const input = { name: 'x', shape: [2, 3], ...(init ? { init } : {}) };
    await gradcheck({ build: (b, [x]) => f(ops(b), x!), inputs: [input], seed: 100 + i }).catch((e: unknown) => {
      throw new Error(`${name}: ${(e as Error).message}`);
    });
  }
});

const broadcastMatrix: [Shape, Shape][] = [
  [
    [2, 3],
    [2, 3],
  ],
  [[2, 3], [3]],
  [
    [2, 1, 4],
    [3, 1],
  ],
  [[], [2, 3]],
  [
    [4, 1],
    [1, 5],
  ],
  [[3], [2, 1, 1]],
];

const binaryChecks: [string, (o: Ops, a: Value, c: Value) => Value][] = [
  ['Add', (o, a, c) => o.add(a, c)],
  ['Sub', (o, a, c) => o.sub(a, c)],
  ['Mul', (o, a, c) => o.mul(a, c)],
  ['Div', (o, a, c) => o.div(a, c)],
  ['Sum', (o, a, c) => o.sum([a, c, a])],
  ['Where', (o, a, c) => o.where(o.greater(a, 0), a, c)],
];

void test('central differences agree for binary ops over a broadcast-shape matrix', async () => {
  let seed = 200;
  for (const [name, f] of binaryChecks) {
    for (const [sa, sc] of broadcastMatrix) {
      // Div's denominator stays positive; |a| ≥ 0.5 keeps Where's condition from flipping within ±eps
      const inputs = [
        { name: 'a', shape: sa, init: offZero(0.5, 1.5) },
        { name: 'c', shape: sc, init: name === 'Div' ? positive() : offZero(0.5, 1.5) },
      ];
      await gradcheck({ build: (b, [a, c]) => f(ops(b), a!, c!), inputs, seed: seed++ }).catch((e: unknown) => {
        throw new Error(`${name} ${JSON.stringify(sa)} with ${JSON.stringify(sc)}: ${(e as Error).message}`);
      });
    }
  }
});

void test('LeakyRelu reads alpha as a FLOAT attribute', () => {
  const b = new GraphBuilder('alpha');
  const x = b.input('x', 'float32', [2]);
  const y = b.op('LeakyRelu', [x], { alpha: attr.i(1) });
  assert.throws(() => gradients(b, ops(b).reduceSum(y, [], false), [x]), /alpha must be float/);
});
