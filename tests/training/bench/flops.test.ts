// SPDX-License-Identifier: MIT
// The FLOP counter on hand-computed cases: one node of each dense kind, elementwise and data ops,
// dead-node detection and the largest-output listing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GraphBuilder } from '../../../training/onnx/builder.ts';
import { ops } from '../../../training/onnx/ops.ts';
import type { Node, Value } from '../../../training/onnx/ir.ts';
import { countFlops, deadNodes, largestOutputs, nodeFlops, oneHotKernels, scopeOf, usefulFlops } from '../../../training/bench/flops.ts';

function producerOf(v: Value): Node {
  assert.ok(v.producer, `${v.name} has no producer`);
  return v.producer;
}

void test('Conv: 2·N·M·OH·OW·C·k·k, bias add counted as elementwise', () => {
  const b = new GraphBuilder('conv');
  const x = b.input('x', 'float32', [2, 3, 8, 8]);
  const w = b.input('w', 'float32', [4, 3, 3, 3]);
  const bias = b.input('bias', 'float32', [4]);
  const y = ops(b).conv(x, w, bias, { strides: [2, 2], pads: [1, 1, 1, 1] });
  assert.deepEqual(y.shape, [2, 4, 4, 4]);
  // 2 · N2 · M4 · 4·4 · C3 · 3·3 = 6912; bias: 2·4·4·4 = 128 adds
  assert.deepEqual(nodeFlops(producerOf(y)), { category: 'conv', flops: 6912, elementwise: 128 });
});

void test('ConvTranspose: 2·N·C·H·W·M·k·k (every input pixel scatters into M·k·k outputs)', () => {
  const b = new GraphBuilder('convT');
  const x = b.input('x', 'float32', [1, 2, 3, 3]);
  const w = b.input('w', 'float32', [2, 5, 4, 4]);
  const y = ops(b).convTranspose(x, w, null, { strides: [2, 2], pads: [1, 1, 1, 1] });
  assert.deepEqual(y.shape, [1, 5, 6, 6]);
  // 2 · N1 · C2 · 3·3 · M5 · 4·4 = 2880 (not 2·numel(Y)·C·k·k = 11520, which would count padding taps)
  assert.deepEqual(nodeFlops(producerOf(y)), { category: 'conv', flops: 2880, elementwise: 0 });
});

void test('MatMul: 2·m·n·k, batched and broadcast', () => {
  const b = new GraphBuilder('mm');
  const o = ops(b);
  const plain = o.matmul(b.input('a', 'float32', [7, 5]), b.input('b', 'float32', [5, 3]));
  const batched = o.matmul(b.input('c', 'float32', [4, 7, 5]), b.input('d', 'float32', [5, 3]));
  assert.equal(nodeFlops(producerOf(plain)).flops, 2 * 7 * 3 * 5);
  assert.equal(nodeFlops(producerOf(batched)).flops, 4 * 2 * 7 * 3 * 5);
  assert.equal(nodeFlops(producerOf(batched)).category, 'matmul');
});

void test('Gemm: 2·m·n·k with transA/transB, plus m·n for C', () => {
  const b = new GraphBuilder('gemm');
  const a = b.input('a', 'float32', [5, 7]); // transA: m = 7, k = 5
  const w = b.input('w', 'float32', [3, 5]); // transB: n = 3
  const c = b.input('c', 'float32', [3]);
  const y = ops(b).gemm(a, w, c, { transA: true, transB: true });
  assert.deepEqual(y.shape, [7, 3]);
  assert.deepEqual(nodeFlops(producerOf(y)), { category: 'matmul', flops: 2 * 7 * 3 * 5, elementwise: 21 });
});

void test('elementwise, reductions, Sum and data movement; totals add up by category and op', () => {
  const b = new GraphBuilder('mixed');
  const o = ops(b);
  const x = b.input('x', 'float32', [4, 5]);
  const y = b.input('y', 'float32', [5]);
  const added = o.add(x, y); // 20 (output elements, broadcast)
  const summed = o.sum([added, x, x]); // 2 · 20
  const reduced = o.reduceSum(summed, [1], false); // 20 (input elements)
  const moved = o.reshape(o.transpose(added, [1, 0]), [20]); // 0
  const mm = o.matmul(x, o.reshape(y, [5, 1])); // 2·4·1·5 = 40
  for (const v of [reduced, moved, mm]) b.output(v);
  const report = countFlops(b.build());
  assert.deepEqual(report.byCategory, { conv: 0, matmul: 40, elementwise: 80, im2col: 0, data: 0 });
  assert.equal(report.total, 120);
  assert.equal(report.dense, 40);
  assert.deepEqual(report.byOp.Sum, { count: 1, flops: 40 });
  assert.equal(report.byOp.Reshape?.count, 2);
  assert.deepEqual(report.unknownOps, []);
});

void test('a Conv with a constant one-hot kernel bank is im2col data movement, not useful FLOPs', () => {
  const b = new GraphBuilder('im2col');
  const x = b.input('x', 'float32', [2, 1, 4, 4]);
  const eye = b.constant([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], 'float32', [4, 1, 2, 2]);
  const notEye = b.constant([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 2], 'float32', [4, 1, 2, 2]);
  const cols = ops(b).conv(x, eye, null, { strides: [2, 2] }); // [2,4,2,2]: 2·32·1·4 = 256 multiply-adds
  const real = ops(b).conv(x, notEye, null, { strides: [2, 2] });
  b.output(cols);
  b.output(real);
  const graph = b.build();
  assert.equal(nodeFlops(producerOf(cols), oneHotKernels(graph)).category, 'im2col');
  assert.equal(usefulFlops(nodeFlops(producerOf(cols), oneHotKernels(graph))), 0);
  const report = countFlops(graph);
  assert.equal(report.byCategory.im2col, 256);
  assert.equal(report.byCategory.conv, 256);
  assert.equal(report.total, 256);
  assert.deepEqual(report.byOp['Conv(one-hot im2col)'], { count: 1, flops: 0 });
});

void test('an unknown op is estimated at 1 FLOP per output element and named', () => {
  const b = new GraphBuilder('unknown');
  const x = b.input('x', 'float32', [3, 4]);
  b.output(b.op('Softplus', [x]));
  const report = countFlops(b.build());
  assert.equal(report.byCategory.elementwise, 12);
  assert.deepEqual(report.unknownOps, ['Softplus']);
});

void test('deadNodes finds nodes whose outputs reach no graph output, transitively', () => {
  const b = new GraphBuilder('dead');
  const o = ops(b);
  const x = b.input('x', 'float32', [8]);
  const live = b.scope('live', () => o.relu(x));
  b.scope('dead', () => o.exp(o.neg(x)));
  b.output(live, 'out');
  const dead = deadNodes(b.build()).map((n) => n.opType);
  assert.deepEqual(dead, ['Neg', 'Exp']);
});

void test('largestOutputs ranks node outputs by size; scopeOf groups backward by application', () => {
  const b = new GraphBuilder('large');
  const o = ops(b);
  const x = b.input('x', 'float32', [2, 3]);
  const big = o.expand(x, [10, 2, 3]);
  b.output(o.add(big, 1));
  b.output(o.relu(x));
  const top = largestOutputs(b.build(), 2);
  assert.deepEqual(
    top.map((t) => t.elements),
    [60, 60],
  );
  assert.deepEqual(top.map((t) => t.node.opType).sort(), ['Add', 'Expand']);
  assert.equal(scopeOf('backward/f_x/enc.0/Conv_0_grad/MatMul_3'), 'backward/f_x');
  assert.equal(scopeOf('f_z/enc.1/Conv_2'), 'f_z');
  assert.equal(scopeOf('Add_7'), '(root)');
});
