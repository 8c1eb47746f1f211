// SPDX-License-Identifier: MIT
// Every gradient-rule failure is the documented AutodiffError (docs/autodiff.md, "Errors"), and
// ctx.constInput is the one way a rule reads a constant input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GraphBuilder } from '../../../training/onnx/builder.ts';
import { attr } from '../../../training/onnx/ir.ts';
import type { Value } from '../../../training/onnx/ir.ts';
import { ops } from '../../../training/onnx/ops.ts';
import { AutodiffError, gradients } from '../../../training/autodiff/backward.ts';

function throwsAutodiff(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof AutodiffError && e.name === 'AutodiffError' && message.test(e.message));
}

void test('a non-constant input read by constInput is an AutodiffError naming op, node, input and what', () => {
  // Index inputs (axes, shapes, pads) must already be constants for build-time shape inference, so
  // the inputs that reach constInput non-constant are Pow's exponent and Dropout's ratio and mode.
  const b = new GraphBuilder('pow');
  const x = b.input('x', 'float32', [3]);
  const p = b.input('p', 'float32', [], { grad: false });
  throwsAutodiff(
    () => gradients(b, ops(b).reduceSum(b.op('Pow', [x, p]), [], false), [x]),
    /^Pow Pow_\d+: the exponent \(input 1\) must be a constant$/,
  );

  const d = new GraphBuilder('dropout');
  const xd = d.input('x', 'float32', [3]);
  const ratio = d.input('ratio', 'float32', [], { grad: false });
  const mode = d.input('training_mode', 'bool', [], { grad: false });
  const outs = d.emit('Dropout', [xd, ratio, mode], {}, 2) as [Value, Value];
  throwsAutodiff(
    () => gradients(d, ops(d).reduceSum(outs[0], [], false), [xd]),
    /^Dropout Dropout_\d+: training_mode \(input 2\) must be a constant$/,
  );
});

void test('refused convolution attributes are AutodiffErrors', () => {
  const b = new GraphBuilder('group');
  const o = ops(b);
  const x = b.input('x', 'float32', [1, 4, 5, 5]);
  const w = b.input('w', 'float32', [4, 2, 3, 3]);
  throwsAutodiff(() => gradients(b, o.reduceSum(o.conv(x, w, null, { group: 2 }), [], false), [w]), /group > 1\) is unsupported/);
});

void test('training-mode BatchNormalization with ONNX momentum ≠ 0 is an AutodiffError', () => {
  const b = new GraphBuilder('bn');
  const x = b.input('x', 'float32', [2, 2, 2, 2]);
  const [g, bt, rm, rv] = ['g', 'bt', 'rm', 'rv'].map((n) => b.input(n, 'float32', [2], { grad: n === 'g' }));
  const attrs = { epsilon: attr.f(1e-5), momentum: attr.f(0.9), training_mode: attr.i(1) };
  const outs = b.emit('BatchNormalization', [x, g!, bt!, rm!, rv!], attrs, 3) as [Value, Value, Value];
  throwsAutodiff(() => gradients(b, ops(b).reduceSum(outs[0], [], false), [x]), /momentum = 0/);
});
