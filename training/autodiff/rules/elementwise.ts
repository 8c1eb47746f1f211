// SPDX-License-Identifier: MIT
/**
 * Gradient rules of elementwise ops. Broadcast reduction happens in backward.ts, not here: a rule
 * may return a gradient in the output's (broadcast) shape. Each rule emits only what needs(i) asks.
 */
import { floatAttr } from '../../onnx/ir.ts';
import type { Value } from '../../onnx/ir.ts';
import { AutodiffError } from '../rule.ts';
import type { GradContext, GradRule } from '../rule.ts';

/** The same gradient for every needed input (Add, Sum). */
const passEach = (c: GradContext): (Value | null)[] => c.node.inputs.map((_, i) => (c.needs(i) ? c.GO(0) : null));

// dX = dY·p·X^(p−1), p a constant (the gradient wrt the exponent is not supported)
function powGrad(c: GradContext): (Value | null)[] {
  if (c.needs(1)) throw new AutodiffError(`Pow ${c.node.name}: gradient wrt the exponent is not supported`);
  const p = c.constInput(1, 'the exponent');
  const pShape = c.I(1).shape;
  const { o, b } = c;
  const x = c.I(0);
  const scalar = p.length === 1 ? p[0]! : undefined;
  if (scalar === 0) return [null, null];
  if (scalar === 1) return [c.GO(0), null];
  const slope =
    scalar === 2
      ? o.mul(x, 2)
      : o.mul(
          b.constant(p, 'float32', pShape),
          b.op('Pow', [
            x,
            b.constant(
              p.map((v) => v - 1),
              'float32',
              pShape,
            ),
          ]),
        );
  return [o.mul(c.GO(0), slope), null];
}

// training: dX = dY·Cast(mask)·1/(1−ratio) with the node's own mask; inference mode: dX = dY
function dropoutGrad(c: GradContext): (Value | null)[] {
  const rest = c.node.inputs.slice(1).map(() => null);
  const training = c.node.inputs[2] ? c.constInput(2, 'training_mode')[0] === 1 : false;
  if (!training) return [c.GO(0), ...rest];
  const ratio = c.node.inputs[1] ? c.constInput(1, 'the ratio')[0]! : 0.5;
  const mask = c.node.outputs[1];
  if (!mask) throw new AutodiffError(`Dropout ${c.node.name}: the gradient needs the mask output (emit 2 outputs)`);
  const kept = c.o.mul(c.GO(0), c.o.cast(mask, 'float32'));
  return [ratio === 0 ? kept : c.o.mul(kept, 1 / (1 - ratio)), ...rest];
}

export const elementwiseRules: Readonly<Record<string, GradRule>> = {
  // dX = dY
  Identity: (c) => [c.GO(0)],
  // dX = dY where X > 0, else 0 (the subgradient at 0 is 0, as in PyTorch)
  Relu: (c) => [c.o.where(c.o.greater(c.I(0), 0), c.GO(0), 0)],
  // dX = dY·(X > 0 ? 1 : α)
  LeakyRelu: (c) => [c.o.mul(c.GO(0), c.o.where(c.o.greater(c.I(0), 0), 1, floatAttr(c.attrs, 'alpha', 0.01)))],
  // dX = dY·(1 − Y²)
  Tanh: (c) => [c.o.mul(c.GO(0), c.o.sub(1, c.o.mul(c.O(0), c.O(0))))],
  // dX = dY·Y·(1 − Y)
  Sigmoid: (c) => [c.o.mul(c.GO(0), c.o.mul(c.O(0), c.o.sub(1, c.O(0))))],
  // dX = dY·σ(X)
  Softplus: (c) => [c.o.mul(c.GO(0), c.o.sigmoid(c.I(0)))],
  // dA = dY, dB = dY
  Add: passEach,
  // dXᵢ = dY for every input
  Sum: passEach,
  // dA = dY, dB = −dY
  Sub: (c) => [c.needs(0) ? c.GO(0) : null, c.needs(1) ? c.o.neg(c.GO(0)) : null],
  // dA = dY·B, dB = dY·A
  Mul: (c) => [c.needs(0) ? c.o.mul(c.GO(0), c.I(1)) : null, c.needs(1) ? c.o.mul(c.GO(0), c.I(0)) : null],
  // dA = dY/B, dB = −dY·A/B² = −dY·Y/B
  Div: (c) => [c.needs(0) ? c.o.div(c.GO(0), c.I(1)) : null, c.needs(1) ? c.o.neg(c.o.div(c.o.mul(c.GO(0), c.O(0)), c.I(1))) : null],
  // dX = −dY
  Neg: (c) => [c.o.neg(c.GO(0))],
  // dX = dY·Sign(X) (0 at X = 0)
  Abs: (c) => [c.o.mul(c.GO(0), c.o.sign(c.I(0)))],
  // dX = dY/(2·Y)
  Sqrt: (c) => [c.o.div(c.GO(0), c.o.mul(c.O(0), 2))],
  // dX = −dY·Y²
  Reciprocal: (c) => [c.o.neg(c.o.mul(c.GO(0), c.o.mul(c.O(0), c.O(0))))],
  Pow: powGrad,
  // dX = dY·Y
  Exp: (c) => [c.o.mul(c.GO(0), c.O(0))],
  // dX = dY/X
  Log: (c) => [c.o.div(c.GO(0), c.I(0))],
  // dX = Where(c, dY, 0), dY' = Where(c, 0, dY); the condition carries no gradient
  Where: (c) => [null, c.needs(1) ? c.o.where(c.I(0), c.GO(0), 0) : null, c.needs(2) ? c.o.where(c.I(0), 0, c.GO(0)) : null],
  Dropout: dropoutGrad,
  // float→float: dX = dY; any cast from or to a non-float type carries no gradient
  Cast: (c) => [c.I(0).dtype === 'float32' && c.O(0).dtype === 'float32' ? c.GO(0) : null],
  Greater: 'non-differentiable',
  Less: 'non-differentiable',
  Equal: 'non-differentiable',
  And: 'non-differentiable',
  Not: 'non-differentiable',
  Sign: 'non-differentiable',
};
