// SPDX-License-Identifier: MIT
/** Gradient rules of elementwise ops. Broadcast reduction happens in backward.ts, not here. */
import type { GradRule } from '../rule.ts';

export const elementwiseRules: Readonly<Record<string, GradRule>> = {
  // dX = dY
  Identity: (c) => [c.GO(0)],
  // dA = dY, dB = dY
  Add: (c) => [c.needs(0) ? c.GO(0) : null, c.needs(1) ? c.GO(0) : null],
  // dA = dY, dB = −dY
  Sub: (c) => [c.needs(0) ? c.GO(0) : null, c.needs(1) ? c.o.neg(c.GO(0)) : null],
  // dA = dY·B, dB = dY·A
  Mul: (c) => [c.needs(0) ? c.o.mul(c.GO(0), c.I(1)) : null, c.needs(1) ? c.o.mul(c.GO(0), c.I(0)) : null],
  // dX = dY·(1 − Y²)
  Tanh: (c) => [c.o.mul(c.GO(0), c.o.sub(1, c.o.mul(c.O(0), c.O(0))))],
  Greater: 'non-differentiable',
};
