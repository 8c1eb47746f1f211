// SPDX-License-Identifier: MIT
// The backward walk's shared behaviour: pruning, fan-in accumulation, stop-gradient, frozen inputs,
// missing rules, zero gradients, and a check that the gradcheck kit itself can fail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GraphBuilder } from '../../../training/onnx/builder.ts';
import type { Node, Value } from '../../../training/onnx/ir.ts';
import { ops } from '../../../training/onnx/ops.ts';
import type { Ops } from '../../../training/onnx/ops.ts';
import { shapeRules } from '../../../training/onnx/shape.ts';
import { AutodiffError, gradients } from '../../../training/autodiff/backward.ts';
import { feed, gradcheck, runGraph } from '../../support/gradcheck.ts';

const opCounts = (nodes: readonly Node[]): Record<string, number> =>
  nodes.reduce<Record<string, number>>((acc, n) => ({ ...acc, [n.opType]: (acc[n.opType] ?? 0) + 1 }), {});

void test('a branch off the loss path gets no backward nodes', () => {
  const b = new GraphBuilder('prune');
  const o = ops(b);
  const x = b.input('x', 'float32', [2, 3]);
  const w = b.input('w', 'float32', [2, 3]);
  const v = b.input('v', 'float32', [2, 3], { grad: false });
  const side = o.mul(o.sigmoid(x), w);
  b.output(side, 'side');
  const loss = o.reduceSum(o.mul(o.tanh(x), v), [], false);
  const before = b.nodeList.length;
  const [, dw] = gradients(b, loss, [x, w]);
  const backward = b.nodeList.slice(before);
  // ReduceSum → Reshape + Expand; Mul by the frozen v → one Mul; Tanh → Mul, Sub, Mul
  assert.deepEqual(opCounts(backward), { Reshape: 1, Expand: 1, Mul: 3, Sub: 1 });
  const offPath = new Set<Value>([side, w, side.producer!.inputs[0]!]);
  assert.ok(
    backward.every((n) => n.inputs.every((i) => !i || !offPath.has(i))),
    'no node reads the side branch',
  );
  assert.equal(dw!.producer, null, "w's gradient is a zero constant");
});

/** y = x·a + tanh(x) + exp(x): x feeds three nodes. */
const threeUses = (o: Ops, x: Value, a: Value): Value => o.sum([o.mul(x, a), o.tanh(x), o.exp(x)]);

void test('three uses of x accumulate through one Sum of three gradients', () => {
  const b = new GraphBuilder('fanin');
  const o = ops(b);
  const x = b.input('x', 'float32', [4]);
  const a = b.input('a', 'float32', [4], { grad: false });
  const loss = o.reduceSum(threeUses(o, x, a), [], false);
  const before = b.nodeList.length;
  const [dx] = gradients(b, loss, [x]);
  const sums = b.nodeList.slice(before).filter((n) => n.opType === 'Sum');
  assert.equal(sums.length, 1);
  assert.equal(sums[0]!.inputs.length, 3);
  assert.equal(dx, sums[0]!.outputs[0]);
  assert.match(sums[0]!.name, /^grad\//);
});

void test('fan-in accumulation agrees with central differences', async () => {
  const inputs = [
    { name: 'x', shape: [4] },
    { name: 'a', shape: [4], grad: false },
  ];
  const report = await gradcheck({ build: (b, [x, a]) => threeUses(ops(b), x!, a!), inputs, seed: 11 });
  assert.equal(report.checked, 4);
});

void test('stopGradient blocks: d/dx Σ x·stop(x) is x, not 2x', async () => {
  const b = new GraphBuilder('stop');
  const o = ops(b);
  const x = b.input('x', 'float32', [3]);
  const loss = o.reduceSum(o.mul(x, b.stopGradient(x)), [], false);
  const [dx] = gradients(b, loss, [x]);
  const [g] = await runGraph(b, [dx!], { x: feed([3], [1, -2, 3]) });
  assert.deepEqual(Array.from(g!.data as Float32Array), [1, -2, 3]);
});

void test('the gradcheck kit fails, printing seed, input, index and both values, when gradients are wrong', async () => {
  // stopGradient makes the analytic gradient x while the finite difference sees 2x
  const build = (b: GraphBuilder, [x]: Value[]) => ops(b).mul(x!, b.stopGradient(x!));
  await assert.rejects(
    gradcheck({ build, inputs: [{ name: 'x', shape: [2, 2], init: [1, 2, 3, 4] }], seed: 42 }),
    /gradcheck failed \(seed 42\): input "x" \[2,2\] index \[0,0\] \(x = 1\): analytic -?[\d.e-]+ vs numeric -?[\d.e-]+/,
  );
});

void test('{grad: false} inputs get no backward nodes and a zero gradient when asked', async () => {
  const b = new GraphBuilder('frozen');
  const o = ops(b);
  const w = b.input('w', 'float32', [2]);
  const frozen = b.input('frozen', 'float32', [2], { grad: false });
  const loss = o.reduceSum(o.mul(w, frozen), [], false);
  const before = b.nodeList.length;
  const [dw, df] = gradients(b, loss, [w, frozen]);
  // one Mul for dw = dY·frozen, none for the frozen side
  assert.equal(b.nodeList.slice(before).filter((n) => n.opType === 'Mul').length, 1);
  const [gw, gf] = await runGraph(b, [dw!, df!], { w: feed([2], [5, 6]), frozen: feed([2], [7, 8]) });
  assert.deepEqual(Array.from(gw!.data as Float32Array), [7, 8]);
  assert.deepEqual(Array.from(gf!.data as Float32Array), [0, 0]);
});

void test('a requested input the loss ignores gets a zero tensor of its shape', async () => {
  const b = new GraphBuilder('ignored');
  const o = ops(b);
  const x = b.input('x', 'float32', [2]);
  const unused = b.input('unused', 'float32', [2, 3]);
  const [dx, du] = gradients(b, o.reduceSum(o.exp(x), [], false), [x, unused]);
  const [gx, gu] = await runGraph(b, [dx!, du!], { x: feed([2], [0, 1]), unused: feed([2, 3], [1, 1, 1, 1, 1, 1]) });
  assert.ok(Math.abs((gx!.data as Float32Array)[1]! - Math.E) < 1e-5);
  assert.deepEqual([...gu!.shape], [2, 3]);
  assert.equal(gu!.dtype, 'float32');
  assert.deepEqual(Array.from(gu!.data as Float32Array), [0, 0, 0, 0, 0, 0]);
});

void test('an op without a gradient rule throws an AutodiffError naming the op', () => {
  shapeRules.TestOnlyOp = (ctx) => [{ dtype: 'float32', shape: ctx.inputs[0]!.shape }];
  try {
    const b = new GraphBuilder('missing');
    const x = b.input('x', 'float32', [2]);
    const loss = ops(b).reduceSum(b.op('TestOnlyOp', [x]), [], false);
    assert.throws(
      () => gradients(b, loss, [x]),
      (e: unknown) => e instanceof AutodiffError && /no gradient rule for op TestOnlyOp \(node TestOnlyOp_0\)/.test(e.message),
    );
  } finally {
    delete shapeRules.TestOnlyOp;
  }
});

void test('a non-scalar loss needs a seed gradient', () => {
  const b = new GraphBuilder('seedless');
  const x = b.input('x', 'float32', [3]);
  assert.throws(() => gradients(b, ops(b).tanh(x), [x]), /loss must be a scalar, got \[3\]/);
});

void test('backward node names are scoped under the forward node and deterministic', () => {
  const names = () => {
    const b = new GraphBuilder('names');
    const o = ops(b);
    const x = b.input('x', 'float32', [3]);
    const loss = o.reduceSum(o.tanh(x), [], false);
    const before = b.nodeList.length;
    gradients(b, loss, [x]);
    return b.nodeList.slice(before).map((n) => n.name);
  };
  const first = names();
  assert.deepEqual(first, names());
  assert.ok(
    first.some((n) => n.startsWith('Tanh_0_grad/')),
    first.join(','),
  );
});
