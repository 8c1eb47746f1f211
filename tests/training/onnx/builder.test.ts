// SPDX-License-Identifier: MIT
// GraphBuilder behaviour: op-type lists, connectivity, deterministic scoped names,
// constant caching, build-time ShapeErrors naming both shapes, stop-gradient flags.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GraphBuilder } from '../../../training/onnx/builder.ts';
import type { Graph } from '../../../training/onnx/ir.ts';
import { ops } from '../../../training/onnx/ops.ts';
import { ShapeError } from '../../../training/onnx/shape.ts';

/** x [2,4] → Relu(x·W + b) → ReduceMean: a small layer inside scopes. */
function layerGraph(): Graph {
  const b = new GraphBuilder('layer');
  const o = ops(b);
  const x = b.input('x', 'float32', [2, 4]);
  const w = b.input('w', 'float32', [4, 3]);
  const bias = b.input('bias', 'float32', [3]);
  const h = b.scope('enc', () => b.scope('0', () => o.relu(o.add(o.matmul(x, w), bias))));
  b.output(o.reduceMean(h, [1], false), 'y');
  return b.build();
}

void test('nodes come out in emission order with the expected op types', () => {
  assert.deepEqual(
    layerGraph().nodes.map((n) => n.opType),
    ['MatMul', 'Add', 'Relu', 'ReduceMean', 'Identity'],
  );
});

void test('every node input is a graph input, an initializer or an earlier output (topological)', () => {
  const g = layerGraph();
  const known = new Set([...g.inputs, ...g.initializers.map((i) => i.value)].map((v) => v.name));
  for (const node of g.nodes) {
    for (const v of node.inputs) assert.ok(!v || known.has(v.name), `${node.name} reads ${v?.name} before it exists`);
    for (const out of node.outputs) {
      assert.ok(!known.has(out.name), `${out.name} defined twice`);
      assert.equal(out.producer, node);
      known.add(out.name);
    }
  }
  assert.ok(g.outputs.every((v) => known.has(v.name)));
  assert.deepEqual(
    g.outputs.map((v) => [v.name, [...v.shape]]),
    [['y', [2]]],
  );
});

void test('scoped node names are deterministic across builds', () => {
  const names = layerGraph().nodes.map((n) => n.name);
  assert.deepEqual(
    names,
    layerGraph().nodes.map((n) => n.name),
  );
  assert.deepEqual(names.slice(0, 3), ['enc/0/MatMul_0', 'enc/0/Add_1', 'enc/0/Relu_2']);
  assert.equal(names[3], 'ReduceMean_3');
});

void test('constants are cached by (dtype, shape, values)', () => {
  const b = new GraphBuilder('consts');
  const one = b.constant([1]);
  assert.equal(b.constant([1]), one);
  assert.notEqual(b.constant([1], 'int64'), one);
  assert.notEqual(b.constant([1], 'float32', [1]), one);
  assert.notEqual(b.constant([2]), one);
  assert.equal(ops(b).scalar(1), one);
  assert.deepEqual(b.constInts(b.constant([3, 4], 'int64')), [3, 4]);
  assert.equal(b.constInts(b.input('x', 'float32', [1])), undefined);
});

void test('shape errors are raised at build time and name the node and both shapes', () => {
  const b = new GraphBuilder('errors');
  const o = ops(b);
  const a = b.input('a', 'float32', [2, 3]);
  const c = b.input('c', 'float32', [4]);
  const m = b.input('m', 'float32', [4, 5]);
  assert.throws(
    () => o.add(a, c),
    (e: unknown) => e instanceof ShapeError && /Add_\d+: .*\[2,3\].*\[4\]/.test(e.message),
  );
  assert.throws(() => o.matmul(a, m), /MatMul_\d+: inner dims differ: \[2,3\] × \[4,5\]/);
  assert.throws(() => o.concat([a, m], 0), /cannot concat \[2,3\] and \[4,5\] on axis 0/);
  assert.throws(() => o.reshape(a, [4, 2]), /cannot reshape \[2,3\] to \[4,2\]/);
  assert.throws(() => b.op('NoSuchOp', [a]), /no shape rule for op NoSuchOp/);
});

void test('duplicate input names are rejected and stopGradient marks its output', () => {
  const b = new GraphBuilder('flags');
  const x = b.input('x', 'float32', [2]);
  assert.throws(() => b.input('x', 'float32', [2]), /duplicate input name x/);
  assert.equal(x.noGrad, false);
  assert.equal(b.input('ids', 'int64', [2]).noGrad, true, 'non-float inputs are never differentiated');
  assert.equal(b.input('frozen', 'float32', [2], { grad: false }).noGrad, true);
  const s = b.stopGradient(x);
  assert.equal(s.noGrad, true);
  assert.equal(s.producer?.opType, 'Identity');
});
