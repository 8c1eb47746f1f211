// SPDX-License-Identifier: MIT
// stackConvBatches: a batched Conv run on stacked images gives the original Conv's output (ONNX
// Runtime on both graphs) for strides 1–3, asymmetric pads, heights that are not a multiple of the
// stride, a bias, several chunks; Convs it must leave alone (constant weight, group > 1, dilation,
// shallow input, batch 1, a kernel larger than a layer's) are left alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../../common/rng.ts';
import { GraphBuilder } from '../../../training/onnx/builder.ts';
import { attr, numel } from '../../../training/onnx/ir.ts';
import type { Attrs, Graph } from '../../../training/onnx/ir.ts';
import { serialize } from '../../../training/onnx/serialize.ts';
import { stackConvBatches } from '../../../training/onnx/stack-conv.ts';
import type { StackConvOptions } from '../../../training/onnx/stack-conv.ts';
import { createSession } from '../../../training/runtime/ort.ts';
import type { HostTensor } from '../../../training/runtime/ort.ts';
import { maxAbsDiff } from '../../support/max-abs-diff.ts';

interface Case {
  name: string;
  x: [number, number, number, number];
  w: [number, number, number, number];
  strides?: [number, number];
  pads?: [number, number, number, number];
  bias?: boolean;
  options?: StackConvOptions;
}

function convGraph(c: Case): Graph {
  const b = new GraphBuilder('conv');
  const x = b.input('x', 'float32', c.x);
  const w = b.input('w', 'float32', c.w);
  const inputs = c.bias ? [x, w, b.input('bias', 'float32', [c.w[0]])] : [x, w];
  const attrs: Attrs = {
    kernel_shape: attr.is(c.w.slice(2)),
    strides: attr.is(c.strides ?? [1, 1]),
    pads: attr.is(c.pads ?? [0, 0, 0, 0]),
  };
  b.output(b.op('Conv', inputs, attrs), 'y');
  return b.build();
}

function feeds(graph: Graph, seed: number): Record<string, HostTensor> {
  const rng = new Rng(seed);
  return Object.fromEntries(
    graph.inputs.map((v) => {
      const data = new Float32Array(numel(v.shape));
      rng.fillNormal(data, 0, 1);
      return [v.name, { dtype: 'float32', shape: v.shape, data }];
    }),
  );
}

async function run(graph: Graph, input: Record<string, HostTensor>): Promise<Float32Array> {
  const session = await createSession(serialize(graph), { threads: 1 });
  try {
    return (await session.run(input)).y!.data as Float32Array;
  } finally {
    await session.release();
  }
}

const CASES: Case[] = [
  {
    name: 'IGN enc.1: 4×4, stride 2, pad 1 (one garbage row per block)',
    x: [6, 16, 14, 14],
    w: [8, 16, 4, 4],
    strides: [2, 2],
    pads: [1, 1, 1, 1],
  },
  { name: 'stride 1, 3×3, pad 1, bias', x: [3, 32, 9, 7], w: [5, 32, 3, 3], pads: [1, 1, 1, 1], bias: true },
  { name: 'stride 3, odd height, asymmetric pads', x: [4, 16, 11, 10], w: [6, 16, 4, 4], strides: [3, 2], pads: [2, 0, 1, 3] },
  { name: 'kernel smaller than the stride', x: [5, 64, 9, 9], w: [7, 64, 2, 2], strides: [3, 3] },
  {
    name: 'four chunks of two images (im2col cap)',
    x: [8, 16, 14, 14],
    w: [8, 16, 4, 4],
    strides: [2, 2],
    pads: [1, 1, 1, 1],
    options: { maxChunkColumns: 2 * 256 * 8 * 7 },
  },
];

for (const c of CASES) {
  void test(`stacked Conv = Conv: ${c.name}`, async () => {
    const graph = convGraph(c);
    const { graph: stacked, stacked: names } = stackConvBatches(graph, c.options);
    assert.equal(names.length, 1, 'the Conv was stacked');
    const convs = stacked.nodes.filter((n) => n.opType === 'Conv');
    assert.equal(convs.length, 1);
    const groups = convs[0]!.inputs[0]!.shape[0]!;
    assert.equal(groups, c.options ? 4 : 1, 'chunks');
    assert.equal(convs[0]!.inputs[0]!.shape[2]! % (c.x[0] / groups), 0, 'images stacked along the rows');
    const input = feeds(graph, 7);
    const [want, got] = [await run(graph, input), await run(stacked, input)];
    let scale = 0;
    for (const v of want) scale = Math.max(scale, Math.abs(v));
    assert.ok(maxAbsDiff(got, want) <= 1e-5 * scale, `max |Δ| ${maxAbsDiff(got, want)} at scale ${scale}`);
  });
}

void test('Convs that stacking does not help are left alone', () => {
  const b = new GraphBuilder('g');
  const x = b.input('x', 'float32', [4, 32, 8, 8]);
  const w = b.input('w', 'float32', [8, 32, 3, 3]);
  const k3 = attr.is([3, 3]);
  const outs = [
    b.op('Conv', [x, b.initializer('const_w', { dtype: 'float32', shape: [8, 32, 3, 3], data: new Float32Array(8 * 32 * 9) })], {
      kernel_shape: k3,
    }),
    b.op('Conv', [x, b.input('wg', 'float32', [8, 16, 3, 3])], { kernel_shape: k3, group: attr.i(2) }),
    b.op('Conv', [x, w], { kernel_shape: k3, dilations: attr.is([2, 2]) }),
    b.op('Conv', [b.input('shallow', 'float32', [4, 8, 8, 8]), b.input('ws', 'float32', [8, 8, 3, 3])], { kernel_shape: k3 }),
    b.op('Conv', [b.input('one', 'float32', [1, 32, 8, 8]), w], { kernel_shape: k3 }),
    b.op('Conv', [b.input('map', 'float32', [4, 32, 12, 12]), b.input('wm', 'float32', [8, 32, 9, 9])], { kernel_shape: attr.is([9, 9]) }),
  ];
  outs.forEach((y, i) => b.output(y, `y${i}`));
  const graph = b.build();
  const { graph: after, stacked } = stackConvBatches(graph);
  assert.deepEqual(stacked, []);
  assert.equal(after.nodes.length, graph.nodes.length);
  // The same graph with a deep, batched, trainable Conv does get stacked: the cases above are the reason.
  const ok = new GraphBuilder('g');
  ok.output(ok.op('Conv', [ok.input('x', 'float32', [4, 32, 8, 8]), ok.input('w', 'float32', [8, 32, 3, 3])], { kernel_shape: k3 }), 'y');
  assert.equal(stackConvBatches(ok.build()).stacked.length, 1);
});
