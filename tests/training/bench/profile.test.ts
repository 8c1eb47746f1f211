// SPDX-License-Identifier: MIT
// The ORT profile summary: kernel events only, per op type per step, FLOPs found through ORT's
// rewritten node names, the one-hot im2col Convs on their own row.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GraphBuilder } from '../../../training/onnx/builder.ts';
import { ops } from '../../../training/onnx/ops.ts';
import { kernelEvents, profileTable, summariseProfile } from '../../../training/bench/profile.ts';

void test('summariseProfile groups kernel time by op type, per step, with useful FLOPs', () => {
  const b = new GraphBuilder('p');
  const o = ops(b);
  const x = b.input('x', 'float32', [1, 1, 4, 4]);
  const eye = b.constant([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], 'float32', [4, 1, 2, 2]);
  const cols = o.conv(x, eye, null, { strides: [2, 2] });
  const mm = o.matmul(b.input('a', 'float32', [2, 3]), b.input('c', 'float32', [3, 4])); // 48 FLOPs
  b.output(cols);
  b.output(mm);
  const graph = b.build();
  const [convName, mmName] = [cols.producer!.name, mm.producer!.name];
  const raw = [
    { cat: 'Session', name: 'model_run', dur: 999 },
    { cat: 'Node', name: `${convName}_out0_nchwc_kernel_time`, dur: 300, args: { op_name: 'Conv' } },
    { cat: 'Node', name: `${mmName}/MatmulTransposeFusion/_kernel_time`, dur: 100, args: { op_name: 'FusedMatMul' } },
    { cat: 'Node', name: `${mmName}/MatmulTransposeFusion/_kernel_time`, dur: 100, args: { op_name: 'FusedMatMul' } },
    { cat: 'Node', name: 'ReorderOutput_token_1_kernel_time', dur: 500, args: { op_name: 'ReorderOutput' } },
    { cat: 'Node', name: `${mmName}_fence_before`, dur: 7, args: { op_name: 'MatMul' } },
  ];
  const events = kernelEvents(raw);
  assert.equal(events.length, 4);
  const rows = summariseProfile(events, graph, 2);
  assert.deepEqual(
    rows.map((r) => r.opType),
    ['ReorderOutput', 'Conv (one-hot im2col)', 'FusedMatMul'],
  );
  const fused = rows.find((r) => r.opType === 'FusedMatMul')!;
  assert.equal(fused.calls, 1);
  assert.equal(fused.msPerStep, 0.1);
  assert.equal(fused.flops, 48); // one 48-FLOP call in each of the two profiled steps
  assert.equal(rows.find((r) => r.opType === 'Conv (one-hot im2col)')!.flops, 0);
  assert.ok(Math.abs(rows.reduce((a, r) => a + r.share, 0) - 1) < 1e-12);
  assert.match(profileTable(rows, 100), /\| FusedMatMul \| 1 \| 0\.1 \| 20\.0% \| 0\.00 \| 0\.0 \| 0\.0% \|/);
  assert.throws(() => kernelEvents({}), /JSON array/);
});

void test('a stacked Conv counts its plain Conv’s FLOPs; the stacking copies count none', () => {
  const b = new GraphBuilder('p');
  const o = ops(b);
  const y = o.conv(b.input('x', 'float32', [4, 16, 14, 14]), b.input('w', 'float32', [8, 16, 4, 4]), null, {
    strides: [2, 2],
    pads: [1, 1, 1, 1],
  });
  b.output(y);
  const plain = b.build();
  const name = y.producer!.name;
  const events = kernelEvents([
    { cat: 'Node', name: `${name}/stack/Conv_4_kernel_time`, dur: 200, args: { op_name: 'Conv' } },
    { cat: 'Node', name: `${name}/stack/Transpose_1_kernel_time`, dur: 50, args: { op_name: 'Transpose' } },
  ]);
  const rows = summariseProfile(events, plain, 1);
  // 4 images × 8 channels × 7×7 outputs, each 16·4·4 multiply-adds: the garbage rows are not counted.
  assert.equal(rows.find((r) => r.opType === 'Conv')!.flops, 2 * 4 * 8 * 49 * 256);
  assert.equal(rows.find((r) => r.opType === 'Transpose')!.flops, 0);
});
