// SPDX-License-Identifier: MIT
// MatMul (2-D, batched, broadcast batch axes) and Gemm (trans flags, alpha, beta, broadcast C).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GraphBuilder } from '../../../training/onnx/builder.ts';
import type { Shape } from '../../../training/onnx/ir.ts';
import { ops } from '../../../training/onnx/ops.ts';
import { gradients } from '../../../training/autodiff/backward.ts';
import { feed, gradcheck, runGraph } from '../../support/gradcheck.ts';

void test('2-D MatMul: dA = dY·Bᵀ and dB = Aᵀ·dY by hand, as Gemm nodes', async () => {
  const b = new GraphBuilder('mm');
  const o = ops(b);
  const a = b.input('a', 'float32', [1, 2]);
  const w = b.input('w', 'float32', [2, 3]);
  const y = o.matmul(a, w);
  const seed = b.input('dy', 'float32', [1, 3], { grad: false });
  const before = b.nodeList.length;
  const [da, dw] = gradients(b, y, [a, w], { seed });
  assert.deepEqual(
    b.nodeList.slice(before).map((n) => n.opType),
    ['Gemm', 'Gemm'],
  );
  const [ga, gw] = await runGraph(b, [da!, dw!], {
    a: feed([1, 2], [1, 2]),
    w: feed([2, 3], [1, 2, 3, 4, 5, 6]),
    dy: feed([1, 3], [1, 0, -1]),
  });
  assert.deepEqual([...ga!.shape], [1, 2]);
  assert.deepEqual([...gw!.shape], [2, 3]);
  assert.deepEqual(Array.from(ga!.data as Float32Array), [1 - 3, 4 - 6]);
  assert.deepEqual(Array.from(gw!.data as Float32Array), [1, 0, -1, 2, 0, -2]);
});

void test('Gemm with transB, alpha, beta and a broadcast bias by hand', async () => {
  // Y = 2·A·Wᵀ + 3·c, A [1,2], W [2,2], c [1]: dA = 2·dY·W, dW = 2·dYᵀ·A, dc = 3·Σ dY
  const b = new GraphBuilder('gemm');
  const o = ops(b);
  const a = b.input('a', 'float32', [1, 2]);
  const w = b.input('w', 'float32', [2, 2]);
  const c = b.input('c', 'float32', [1]);
  const y = o.gemm(a, w, c, { transB: true, alpha: 2, beta: 3 });
  const seed = b.input('dy', 'float32', [1, 2], { grad: false });
  const grads = gradients(b, y, [a, w, c], { seed });
  const [ga, gw, gc] = await runGraph(b, grads, {
    a: feed([1, 2], [1, 2]),
    w: feed([2, 2], [1, 2, 3, 4]),
    c: feed([1], [0]),
    dy: feed([1, 2], [1, 2]),
  });
  assert.deepEqual(Array.from(ga!.data as Float32Array), [2 * (1 + 6), 2 * (2 + 8)]);
  assert.deepEqual(Array.from(gw!.data as Float32Array), [2, 4, 4, 8]);
  assert.deepEqual([...gc!.shape], [1]);
  assert.deepEqual(Array.from(gc!.data as Float32Array), [9]);
});

void test('batched MatMul with a broadcast 2-D operand sums dB over the batch', async () => {
  const b = new GraphBuilder('bmm');
  const o = ops(b);
  const a = b.input('a', 'float32', [2, 1, 2]);
  const w = b.input('w', 'float32', [2, 1]);
  const seed = b.input('dy', 'float32', [2, 1, 1], { grad: false });
  const [da, dw] = gradients(b, o.matmul(a, w), [a, w], { seed });
  const [ga, gw] = await runGraph(b, [da!, dw!], {
    a: feed([2, 1, 2], [1, 2, 3, 4]),
    w: feed([2, 1], [5, 6]),
    dy: feed([2, 1, 1], [1, 10]),
  });
  assert.deepEqual([...ga!.shape], [2, 1, 2]);
  assert.deepEqual(Array.from(ga!.data as Float32Array), [5, 6, 50, 60]);
  assert.deepEqual([...gw!.shape], [2, 1]);
  assert.deepEqual(Array.from(gw!.data as Float32Array), [1 + 30, 2 + 40]);
});

void test('MatMul emits only the gradient that is needed', () => {
  const b = new GraphBuilder('needs');
  const a = b.input('a', 'float32', [2, 3, 4], { grad: false });
  const w = b.input('w', 'float32', [4, 5]);
  const loss = ops(b).reduceSum(ops(b).matmul(a, w), [], false);
  const before = b.nodeList.length;
  gradients(b, loss, [w]);
  const types = b.nodeList.slice(before).map((n) => n.opType);
  assert.equal(types.filter((t) => t === 'MatMul').length, 1, types.join(','));
  assert.equal(types.filter((t) => t === 'Transpose').length, 1, types.join(','));
});

const matmulShapes: [Shape, Shape][] = [
  [
    [3, 4],
    [4, 2],
  ],
  [
    [2, 3, 4],
    [2, 4, 5],
  ],
  [
    [2, 3, 4],
    [4, 5],
  ],
  [
    [3, 4],
    [2, 4, 5],
  ],
  [
    [2, 1, 3, 4],
    [3, 4, 2],
  ],
];

void test('central differences agree for MatMul, 2-D and batched with broadcasting', async () => {
  for (const [i, [sa, sb]] of matmulShapes.entries()) {
    const inputs = [
      { name: 'a', shape: sa },
      { name: 'w', shape: sb },
    ];
    await gradcheck({ build: (b, [a, w]) => ops(b).matmul(a!, w!), inputs, seed: 500 + i }).catch((e: unknown) => {
      throw new Error(`${JSON.stringify(sa)} × ${JSON.stringify(sb)}: ${(e as Error).message}`);
    });
  }
});

const gemmCases: { transA: boolean; transB: boolean; alpha: number; beta: number; c: Shape | null }[] = [
  { transA: false, transB: false, alpha: 1, beta: 1, c: [3, 2] },
  { transA: false, transB: true, alpha: 1, beta: 1, c: [2] },
  { transA: true, transB: false, alpha: 0.5, beta: 2, c: [3, 1] },
  { transA: true, transB: true, alpha: -1.5, beta: 0.25, c: [] },
  { transA: false, transB: true, alpha: 2, beta: 1, c: null },
];

void test('central differences agree for Gemm over trans flags, alpha, beta and broadcast C', async () => {
  for (const [i, g] of gemmCases.entries()) {
    const inputs = [
      { name: 'a', shape: g.transA ? [4, 3] : [3, 4] },
      { name: 'w', shape: g.transB ? [2, 4] : [4, 2] },
      ...(g.c ? [{ name: 'c', shape: g.c }] : []),
    ];
    const build = (b: GraphBuilder, [a, w, c]: ReturnType<GraphBuilder['input']>[]) =>
      ops(b).gemm(a!, w!, c ?? null, { transA: g.transA, transB: g.transB, alpha: g.alpha, beta: g.beta });
    await gradcheck({ build, inputs, seed: 600 + i }).catch((e: unknown) => {
      throw new Error(`Gemm ${JSON.stringify(g)}: ${(e as Error).message}`);
    });
  }
});
