// SPDX-License-Identifier: MIT
// ReduceSum / ReduceMean gradients: hand cases (expanded dY, 1/count) and central differences over
// axes sets with keepdims 0 and 1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GraphBuilder } from '../../../training/onnx/builder.ts';
import { attr } from '../../../training/onnx/ir.ts';
import { ops } from '../../../training/onnx/ops.ts';
import { gradients } from '../../../training/autodiff/backward.ts';
import { feed, gradcheck, runGraph } from '../../support/gradcheck.ts';

void test('ReduceSum spreads dY over the reduced axis; ReduceMean divides it by the count', async () => {
  const b = new GraphBuilder('reduce');
  const o = ops(b);
  const x = b.input('x', 'float32', [2, 3]);
  const s = o.reduceSum(x, [1], false);
  const m = o.reduceMean(x, [0], true);
  const ds = b.input('ds', 'float32', [2], { grad: false });
  const dm = b.input('dm', 'float32', [1, 3], { grad: false });
  const [gs] = gradients(b, s, [x], { seed: ds });
  const [gm] = gradients(b, m, [x], { seed: dm });
  const [a, c] = await runGraph(b, [gs!, gm!], {
    x: feed([2, 3], [1, 2, 3, 4, 5, 6]),
    ds: feed([2], [10, 20]),
    dm: feed([1, 3], [2, 4, 6]),
  });
  assert.deepEqual([...a!.shape], [2, 3]);
  assert.equal(a!.dtype, 'float32');
  assert.deepEqual(Array.from(a!.data as Float32Array), [10, 10, 10, 20, 20, 20]);
  assert.deepEqual(Array.from(c!.data as Float32Array), [1, 2, 3, 1, 2, 3]);
});

void test('ReduceSum with empty axes and noop_with_empty_axes=1 is the identity', async () => {
  const b = new GraphBuilder('noop');
  const x = b.input('x', 'float32', [3]);
  const y = b.op('ReduceSum', [x, b.constant([], 'int64', [0])], { noop_with_empty_axes: attr.i(1) });
  assert.deepEqual(y.shape, [3]);
  const seed = b.input('dy', 'float32', [3], { grad: false });
  const [g] = gradients(b, y, [x], { seed });
  const [fwd, out] = await runGraph(b, [y, g!], { x: feed([3], [1, 2, 3]), dy: feed([3], [4, 5, 6]) });
  assert.deepEqual(Array.from(fwd!.data as Float32Array), [1, 2, 3]);
  assert.deepEqual(Array.from(out!.data as Float32Array), [4, 5, 6]);
});

const axesCases: [number[], boolean][] = [
  [[], false],
  [[], true],
  [[0], false],
  [[1], true],
  [[-1], false],
  [[0, 2], true],
  [[0, 2], false],
  [[1, 2], false],
];

void test('central differences agree for ReduceSum and ReduceMean over axes × keepdims', async () => {
  let seed = 300;
  for (const [axes, keep] of axesCases) {
    for (const kind of ['sum', 'mean'] as const) {
      const build = (b: GraphBuilder, [x]: ReturnType<GraphBuilder['input']>[]) => {
        const o = ops(b);
        // Tanh before the reduction makes dX depend on the reduced position
        const t = o.tanh(x!);
        return kind === 'sum' ? o.reduceSum(t, axes, keep) : o.reduceMean(t, axes, keep);
      };
      await gradcheck({ build, inputs: [{ name: 'x', shape: [2, 3, 4] }], seed: seed++ }).catch((e: unknown) => {
        throw new Error(`${kind} axes ${JSON.stringify(axes)} keepdims ${keep}: ${(e as Error).message}`);
      });
    }
  }
});
