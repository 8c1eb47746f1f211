// SPDX-License-Identifier: MIT
// Build-time shape inference against what ONNX Runtime actually returns for the same node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GraphBuilder } from '../../../training/onnx/builder.ts';
import { attr, numel } from '../../../training/onnx/ir.ts';
import type { Shape, Value } from '../../../training/onnx/ir.ts';
import { ops } from '../../../training/onnx/ops.ts';
import type { Ops } from '../../../training/onnx/ops.ts';
import { feed, runGraph } from '../../support/gradcheck.ts';

const cases: [string, Shape, (o: Ops, x: Value) => Value][] = [
  ['Slice steps', [5, 7], (o, x) => o.slice(x, [1, -6], [100, 7], [0, 1], [2, 3])],
  ['Slice empty', [4], (o, x) => o.slice(x, [3], [1], [0])],
  ['ReduceSum keepdims 0', [2, 3, 4], (o, x) => o.reduceSum(x, [0, -1], false)],
  ['ReduceSum all', [2, 3], (o, x) => o.reduceSum(x, [], true)],
  ['ReduceSum noop', [2, 3], (o, x) => o.b.op('ReduceSum', [x, o.b.constant([], 'int64', [0])], { noop_with_empty_axes: attr.i(1) })],
  ['ReduceMean', [2, 3, 4], (o, x) => o.reduceMean(x, [1], true)],
  ['Reshape -1 and 0', [2, 3, 4], (o, x) => o.reshape(x, [0, -1])],
  ['Transpose default', [2, 3, 4], (o, x) => o.b.op('Transpose', [x])],
  ['Unsqueeze', [2, 3], (o, x) => o.unsqueeze(x, [0, -1])],
  ['Pad', [2, 3], (o, x) => o.pad(x, [1, 0, 2, 3])],
  ['MatMul batched', [2, 1, 3, 4], (o, x) => o.matmul(x, o.b.constant(new Array<number>(40).fill(1), 'float32', [5, 4, 2]))],
  ['Expand', [3, 1], (o, x) => o.expand(x, [2, 1, 4])],
  ['Gemm transA', [4, 3], (o, x) => o.gemm(x, o.b.constant(new Array<number>(8).fill(1), 'float32', [4, 2]), null, { transA: true })],
];

void test('inferred shapes match ONNX Runtime for every case', async () => {
  const b = new GraphBuilder('shapes');
  const o = ops(b);
  const feeds: Record<string, ReturnType<typeof feed>> = {};
  const outs = cases.map(([, shape, f], i) => {
    const x = b.input(`x${i}`, 'float32', shape);
    feeds[`x${i}`] = feed(shape, new Array<number>(numel(shape)).fill(1));
    return f(o, x);
  });
  const results = await runGraph(b, outs, feeds);
  results.forEach((r, i) => {
    assert.deepEqual([...r.shape], [...outs[i]!.shape], cases[i]![0]);
  });
  assert.deepEqual(outs[0]!.shape, [2, 2]);
});
