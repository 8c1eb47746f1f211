// SPDX-License-Identifier: MIT
/**
 * @file Gradient rule of the native BatchNormalization-15 op (docs/autodiff.md, "Formulations per op" and "ORT traps").
 * Statistics are per channel (axis 1) over every other axis, M elements each.
 *
 * Training mode (training_mode = 1) is differentiated only with momentum = 0: ONNX's output 1/2
 * are then the batch mean μ and the biased batch variance σ² (ONNX's momentum is PyTorch's 1 − m;
 * the PyTorch-style running update is composed outside, in training/nn/batch-norm-op.ts). The
 * inputs input_mean/input_var do not influence any output then, so they get no gradient. Outputs
 * 1/2 are treated as non-differentiable: a gradient reaching them is refused loudly, because a
 * loss using them would otherwise be silently wrong (batchNormTrain wraps them in stopGradient).
 * GroupNorm has no native op at opset 17; it is composed from primitives and needs no rule here.
 */
import { floatAttr, intAttr, numel } from '../../onnx/ir.ts';
import type { Value } from '../../onnx/ir.ts';
import { AutodiffError } from '../rule.ts';
import type { GradContext, GradRule } from '../rule.ts';

interface ChannelLayout {
  /** Every axis but the channel axis. */
  readonly axes: number[];
  /** [1, C, 1, …]: a [C] vector reshaped to broadcast against X. */
  readonly column: number[];
  /** Elements per channel, M = N·H·W. */
  readonly count: number;
}

function channelLayout(x: Value): ChannelLayout {
  const c = x.shape[1];
  if (c === undefined) throw new AutodiffError(`BatchNormalization needs rank ≥ 2 input, got [${x.shape.join(',')}]`);
  return {
    axes: x.shape.map((_, i) => i).filter((i) => i !== 1),
    column: x.shape.map((_, i) => (i === 1 ? c : 1)),
    count: numel(x.shape) / c,
  };
}

/** r = 1/sqrt(σ² + ε) as a [1, C, 1, …] column. */
function invStd(c: GradContext, variance: Value, layout: ChannelLayout): Value {
  const eps = floatAttr(c.attrs, 'epsilon', 1e-5);
  return c.o.reshape(c.o.reciprocal(c.o.sqrt(c.o.add(variance, eps))), layout.column);
}

const channelVector = (c: GradContext, column: Value): Value => c.o.reshape(column, [column.shape[1]!]);

// x̂ = (X − μ)·r, Y = γ·x̂ + β; sums Σ over N and spatial axes per channel:
// dβ = Σ dY;  dγ = Σ dY·x̂;  dX = γ·r·(dY − Σ dY/M − x̂·Σ dY·x̂/M)
function trainingGrad(c: GradContext): (Value | null)[] {
  const name = `BatchNormalization ${c.node.name}`;
  if (floatAttr(c.attrs, 'momentum', 0.9) !== 0) {
    throw new AutodiffError(`${name}: training-mode gradient needs momentum = 0 (outputs 1/2 must be the batch statistics)`);
  }
  if (c.hasGO(1) || c.hasGO(2)) {
    throw new AutodiffError(`${name}: the batch mean/variance outputs are non-differentiable here; stopGradient them`);
  }
  const { o } = c;
  const [x, gamma, dy] = [c.I(0), c.I(1), c.GO(0)];
  const layout = channelLayout(x);
  const r = invStd(c, c.O(2), layout);
  const xHat = o.mul(o.sub(x, o.reshape(c.O(1), layout.column)), r);
  const sumDy = o.reduceSum(dy, layout.axes, true);
  const sumDyXHat = o.reduceSum(o.mul(dy, xHat), layout.axes, true);
  let dx: Value | null = null;
  if (c.needs(0)) {
    const scale = o.mul(o.reshape(gamma, layout.column), r);
    const centred = o.sub(dy, o.mul(sumDy, 1 / layout.count));
    dx = o.mul(scale, o.sub(centred, o.mul(xHat, o.mul(sumDyXHat, 1 / layout.count))));
  }
  return [dx, c.needs(1) ? channelVector(c, sumDyXHat) : null, c.needs(2) ? channelVector(c, sumDy) : null, null, null];
}

// Y = γ·(X − rm)·r + β with r = 1/sqrt(rv + ε), all per channel:
// dX = dY·γ·r;  dγ = Σ dY·(X − rm)·r;  dβ = Σ dY;  drm = −γ·r·Σ dY;  drv = −½·γ·r²·dγ
function evalGrad(c: GradContext): (Value | null)[] {
  const { o } = c;
  const [x, gamma, runMean, dy] = [c.I(0), c.I(1), c.I(3), c.GO(0)];
  const layout = channelLayout(x);
  const r = invStd(c, c.I(4), layout);
  const gammaCol = o.reshape(gamma, layout.column);
  const needGamma = c.needs(1) || c.needs(4);
  const sumDyXHat = needGamma ? o.reduceSum(o.mul(dy, o.mul(o.sub(x, o.reshape(runMean, layout.column)), r)), layout.axes, true) : null;
  const sumDy = c.needs(2) || c.needs(3) ? o.reduceSum(dy, layout.axes, true) : null;
  return [
    c.needs(0) ? o.mul(dy, o.mul(gammaCol, r)) : null,
    c.needs(1) && sumDyXHat ? channelVector(c, sumDyXHat) : null,
    c.needs(2) && sumDy ? channelVector(c, sumDy) : null,
    c.needs(3) && sumDy ? channelVector(c, o.neg(o.mul(o.mul(gammaCol, r), sumDy))) : null,
    c.needs(4) && sumDyXHat ? channelVector(c, o.mul(o.mul(gammaCol, o.mul(r, r)), o.mul(sumDyXHat, -0.5))) : null,
  ];
}

export const normRules: Readonly<Record<string, GradRule>> = {
  BatchNormalization: (c) => (intAttr(c.attrs, 'training_mode', 0) === 1 ? trainingGrad(c) : evalGrad(c)),
};
