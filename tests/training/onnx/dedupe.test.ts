// SPDX-License-Identifier: MIT
// dedupeGraph: duplicate nodes merged (also across aliased inputs and through Identity), random ops
// never merged, momentum-0 training BN keyed on inputs 0–2 only, dead nodes and unused inputs dropped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GraphBuilder } from '../../../training/onnx/builder.ts';
import { attr } from '../../../training/onnx/ir.ts';
import { ops } from '../../../training/onnx/ops.ts';
import { dedupeGraph } from '../../../training/onnx/dedupe.ts';

void test('equal nodes merge, aliased inputs and Identity count as the same value, dead nodes go', () => {
  const b = new GraphBuilder('g');
  const o = ops(b);
  const x = b.input('x', 'float32', [2, 3]);
  const copy = b.input('copy.x', 'float32', [2, 3]);
  const a = o.relu(x);
  const twin = o.relu(b.stopGradient(copy));
  o.tanh(a); // dead
  b.output(o.add(a, twin), 'y');
  const { graph, merged, dead, removedInputs } = dedupeGraph(b.build(), { sameAs: { 'copy.x': 'x' } });
  assert.deepEqual(
    graph.nodes.map((n) => n.opType),
    ['Relu', 'Add', 'Identity'],
  );
  const add = graph.nodes[1]!;
  assert.equal(add.inputs[0], add.inputs[1], 'Add reads the one Relu twice');
  assert.equal(merged, 2); // the Identity and the second Relu
  assert.equal(dead, 1);
  assert.deepEqual(removedInputs, ['copy.x']);
  assert.deepEqual(
    graph.inputs.map((v) => v.name),
    ['x'],
  );
});

void test('different attributes or random ops are never merged; named outputs are kept', () => {
  const b = new GraphBuilder('g');
  const o = ops(b);
  const x = b.input('x', 'float32', [4]);
  const l1 = o.leakyRelu(x, 0.2);
  const l2 = o.leakyRelu(x, 0.1);
  // Dropout in training mode draws a fresh mask per node: two equal-looking nodes are two draws.
  const ratio = b.constant([0.5]);
  const on = b.constant([1], 'bool', []);
  const r1 = b.op('Dropout', [x, ratio, on]);
  const r2 = b.op('Dropout', [x, ratio, on]);
  b.output(o.sum([l1, l2, r1, r2]), 'y');
  b.output(l1, 'l1');
  const { graph } = dedupeGraph(b.build());
  assert.equal(graph.nodes.filter((n) => n.opType === 'LeakyRelu').length, 2);
  assert.equal(graph.nodes.filter((n) => n.opType === 'Dropout').length, 2);
  assert.deepEqual(
    graph.outputs.map((v) => v.name),
    ['y', 'l1'],
  );
});

void test('training BatchNormalization with momentum 0 ignores its running-statistic inputs; others do not', () => {
  const b = new GraphBuilder('g');
  const x = b.input('x', 'float32', [4, 2, 3, 3]);
  const [g, beta, m1, v1, m2, v2] = ['g', 'beta', 'm1', 'v1', 'm2', 'v2'].map((n) => b.input(n, 'float32', [2]));
  const bn = (m: typeof m1, v: typeof v1, momentum: number) =>
    b.emit(
      'BatchNormalization',
      [x, g!, beta!, m!, v!],
      { epsilon: attr.f(1e-5), momentum: attr.f(momentum), training_mode: attr.i(1) },
      3,
    );
  const outs = [...bn(m1, v1, 0), ...bn(m2, v2, 0), ...bn(m1, v1, 0.1), ...bn(m2, v2, 0.1)];
  b.output(ops(b).sum(outs.filter((_, i) => i % 3 === 0)), 'y');
  const { graph } = dedupeGraph(b.build());
  assert.equal(graph.nodes.filter((n) => n.opType === 'BatchNormalization').length, 3);
});

void test('sameAs must name inputs of one dtype and shape', () => {
  const b = new GraphBuilder('g');
  const x = b.input('x', 'float32', [2]);
  b.input('y', 'float32', [3]);
  b.output(ops(b).relu(x), 'out');
  const graph = b.build();
  assert.throws(() => dedupeGraph(graph, { sameAs: { ghost: 'x' } }), /missing graph input/);
  assert.throws(() => dedupeGraph(graph, { sameAs: { y: 'x' } }), /differ in dtype or shape/);
});
