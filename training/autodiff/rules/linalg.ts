// SPDX-License-Identifier: MIT
/**
 * Gradient rules of MatMul and Gemm. 2-D products use Gemm's trans flags instead of Transpose
 * nodes; batched MatMul transposes the last two axes and leaves the batch-axis reduction of a
 * broadcast operand to backward.ts.
 */
import { floatAttr, intAttr } from '../../onnx/ir.ts';
import type { Value } from '../../onnx/ir.ts';
import type { GradContext, GradRule } from '../rule.ts';

/** Swap the last two axes (the matrix transpose of a batch of matrices). */
function swapLast(c: GradContext, x: Value): Value {
  const rank = x.shape.length;
  const perm = x.shape.map((_, i) => (i < rank - 2 ? i : rank === i + 1 ? rank - 2 : rank - 1));
  return c.o.transpose(x, perm);
}

// dA = dY · Bᵀ, dB = Aᵀ · dY
function matmulGrad(c: GradContext): (Value | null)[] {
  const [a, b, dy] = [c.I(0), c.I(1), c.GO(0)];
  if (a.shape.length === 2 && b.shape.length === 2) {
    return [c.needs(0) ? c.o.gemm(dy, b, null, { transB: true }) : null, c.needs(1) ? c.o.gemm(a, dy, null, { transA: true }) : null];
  }
  return [c.needs(0) ? c.o.matmul(dy, swapLast(c, b)) : null, c.needs(1) ? c.o.matmul(swapLast(c, a), dy) : null];
}

/**
 * Y = α·A′·B′ + β·C with A′ = transA ? Aᵀ : A, B′ likewise.
 * dA′ = α·dY·B′ᵀ, dB′ = α·A′ᵀ·dY, dC = β·dY (unbroadcast in backward.ts); a transposed operand
 * takes the transpose of its gradient, folded into the Gemm flags.
 */
function gemmGrad(c: GradContext): (Value | null)[] {
  const transA = intAttr(c.attrs, 'transA', 0) === 1;
  const transB = intAttr(c.attrs, 'transB', 0) === 1;
  const alpha = floatAttr(c.attrs, 'alpha', 1);
  const beta = floatAttr(c.attrs, 'beta', 1);
  const [a, b, dy] = [c.I(0), c.I(1), c.GO(0)];
  // transA=0: dA = α·dY·B′ᵀ; transA=1: dA = α·B′·dYᵀ
  const dA = () =>
    transA ? c.o.gemm(b, dy, null, { transA: transB, transB: true, alpha }) : c.o.gemm(dy, b, null, { transB: !transB, alpha });
  // transB=0: dB = α·A′ᵀ·dY; transB=1: dB = α·dYᵀ·A′
  const dB = () =>
    transB ? c.o.gemm(dy, a, null, { transA: true, transB: transA, alpha }) : c.o.gemm(a, dy, null, { transA: !transA, alpha });
  const dC = () => (beta === 1 ? dy : c.o.mul(dy, beta));
  return [c.needs(0) ? dA() : null, c.needs(1) ? dB() : null, ...(c.node.inputs.length > 2 ? [c.needs(2) ? dC() : null] : [])];
}

export const linalgRules: Readonly<Record<string, GradRule>> = {
  MatMul: matmulGrad,
  Gemm: gemmGrad,
};
