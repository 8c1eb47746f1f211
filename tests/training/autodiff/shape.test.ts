// SPDX-License-Identifier: MIT
// Data-movement gradient rules: hand cases (where every dY element lands) and central differences.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GraphBuilder } from '../../../training/onnx/builder.ts';
import { attr } from '../../../training/onnx/ir.ts';
import type { Shape, Value } from '../../../training/onnx/ir.ts';
import { ops } from '../../../training/onnx/ops.ts';
import type { Ops } from '../../../training/onnx/ops.ts';
import { gradients } from '../../../training/autodiff/backward.ts';
import { feed, gradcheck, runGraph } from '../../support/gradcheck.ts';

const iota = (n: number, from = 1): number[] => Array.from({ length: n }, (_, i) => i + from);

/** dX of y = f(x) for dY = 1, 2, 3, … (distinct values show where each element goes). */
async function scatterOf(shape: Shape, f: (o: Ops, x: Value) => Value) {
  const b = new GraphBuilder('hand');
  const x = b.input('x', 'float32', shape);
  const y = f(ops(b), x);
  const n = y.shape.reduce((p, d) => p * d, 1);
  const seed = b.input('dy', 'float32', y.shape, { grad: false });
  const [dx] = gradients(b, y, [x], { seed });
  const xs = iota(shape.reduce((p, d) => p * d, 1));
  const [out] = await runGraph(b, [dx!], { x: feed(shape, xs), dy: feed(y.shape, iota(n)) });
  assert.deepEqual([...out!.shape], [...shape]);
  assert.equal(out!.dtype, 'float32');
  return Array.from(out!.data as Float32Array);
}

void test('Reshape, Squeeze and Unsqueeze reshape dY back unchanged in order', async () => {
  assert.deepEqual(await scatterOf([2, 3], (o, x) => o.reshape(x, [3, 2])), iota(6));
  assert.deepEqual(await scatterOf([2, 1, 3], (o, x) => o.squeeze(x, [1])), iota(6));
  assert.deepEqual(await scatterOf([2, 3], (o, x) => o.unsqueeze(x, [1])), iota(6));
});

void test('Slice with step 1 pads dY back with zeros', async () => {
  const got = await scatterOf([3, 4], (o, x) => o.slice(x, [1, 1], [3, 3], [0, 1]));
  assert.deepEqual(got, [0, 0, 0, 0, 0, 1, 2, 0, 0, 3, 4, 0]);
});

void test('Slice with steps > 1 interleaves zeros without a scatter', async () => {
  // axis 1 of length 7: start 1, step 3 → positions 1, 4 (end 6); axis 0 step 2 from 0 → rows 0, 2
  const got = await scatterOf([3, 7], (o, x) => o.slice(x, [0, 1], [3, 6], [0, 1], [2, 3]));
  assert.deepEqual(got, [0, 1, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 4, 0, 0]);
  // the last element reaches the very end (start 2, step 2 on length 7 → 2, 4, 6)
  assert.deepEqual(await scatterOf([7], (o, x) => o.slice(x, [2], [100], [0], [2])), [0, 0, 1, 0, 2, 0, 3]);
  // negative start and end count from the end
  assert.deepEqual(await scatterOf([5], (o, x) => o.slice(x, [-4], [-1], [0])), [0, 1, 2, 3, 0]);
});

void test('Transpose uses the inverse permutation', async () => {
  // y = x.transpose(1, 2, 0) for x [2,3,4]; dX[i,j,k] = dY[j,k,i]
  const got = await scatterOf([2, 3, 4], (o, x) => o.transpose(x, [1, 2, 0]));
  const expected = iota(24, 0).map((flat) => {
    const [i, j, k] = [Math.floor(flat / 12), Math.floor(flat / 4) % 3, flat % 4];
    return j * 8 + k * 2 + i + 1;
  });
  assert.deepEqual(got, expected);
});

void test('Concat slices dY per input and only for needed inputs', async () => {
  const b = new GraphBuilder('concat');
  const o = ops(b);
  const x = b.input('x', 'float32', [2, 1]);
  const frozen = b.input('frozen', 'float32', [2, 2], { grad: false });
  const z = b.input('z', 'float32', [2, 3]);
  const y = o.concat([x, frozen, z], -1);
  const seed = b.input('dy', 'float32', [2, 6], { grad: false });
  const before = b.nodeList.length;
  const [dx, dz] = gradients(b, y, [x, z], { seed });
  assert.equal(b.nodeList.slice(before).filter((n) => n.opType === 'Slice').length, 2, 'no Slice for the frozen input');
  const [gx, gz] = await runGraph(b, [dx!, dz!], {
    x: feed([2, 1], [0, 0]),
    frozen: feed([2, 2], [0, 0, 0, 0]),
    z: feed([2, 3], iota(6)),
    dy: feed([2, 6], iota(12)),
  });
  assert.deepEqual(Array.from(gx!.data as Float32Array), [1, 7]);
  assert.deepEqual(Array.from(gz!.data as Float32Array), [4, 5, 6, 10, 11, 12]);
});

void test('Pad slices the interior of dY; Expand sums dY over the broadcast axes', async () => {
  assert.deepEqual(await scatterOf([2], (o, x) => o.pad(x, [1, 2])), [2, 3]);
  assert.deepEqual(await scatterOf([2, 1], (o, x) => o.expand(x, [2, 3])), [6, 15]);
  assert.deepEqual(await scatterOf([3], (o, x) => o.expand(x, [2, 3])), [5, 7, 9]);
});

void test('Pad refuses reflect mode', () => {
  const b = new GraphBuilder('reflect');
  const x = b.input('x', 'float32', [4]);
  const y = b.op('Pad', [x, b.constant([1, 1], 'int64', [2])], { mode: attr.s('reflect') });
  assert.throws(() => gradients(b, ops(b).reduceSum(y, [], false), [x]), /only constant mode/);
});

const checks: [string, Shape, (o: Ops, x: Value) => Value][] = [
  ['Reshape', [2, 3, 4], (o, x) => o.reshape(x, [4, -1])],
  ['Squeeze', [2, 1, 3], (o, x) => o.squeeze(x, [1])],
  ['Unsqueeze', [2, 3], (o, x) => o.unsqueeze(x, [0, 3])],
  ['Transpose', [2, 3, 4], (o, x) => o.transpose(x, [2, 0, 1])],
  ['Transpose default', [2, 3, 4], (o, x) => o.b.op('Transpose', [x])],
  ['Concat', [2, 3], (o, x) => o.concat([x, o.tanh(x), x], 0)],
  ['Slice', [4, 5], (o, x) => o.slice(x, [1, 0], [3, 4], [0, 1])],
  ['Slice steps', [5, 7, 3], (o, x) => o.slice(x, [1, 0, 0], [5, 7, 3], [0, 1, 2], [2, 3, 2])],
  ['Expand', [3, 1], (o, x) => o.expand(x, [2, 3, 4])],
  ['Pad', [2, 3], (o, x) => o.pad(x, [0, 1, 2, 1])],
];

void test('central differences agree for every data-movement rule', async () => {
  for (const [i, [name, shape, f]] of checks.entries()) {
    await gradcheck({ build: (b, [x]) => f(ops(b), x!), inputs: [{ name: 'x', shape }], seed: 400 + i }).catch((e: unknown) => {
      throw new Error(`${name}: ${(e as Error).message}`);
    });
  }
});
