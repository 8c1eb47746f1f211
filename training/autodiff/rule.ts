// SPDX-License-Identifier: MIT
/** The one rule signature and vocabulary (after ORT's gradient_builder_base.h: I, O, GO, needs). */
import type { Attrs, Node, Value } from '../onnx/ir.ts';
import type { GraphBuilder } from '../onnx/builder.ts';
import type { Ops } from '../onnx/ops.ts';

export interface GradContext {
  readonly b: GraphBuilder;
  readonly o: Ops;
  readonly node: Node;
  readonly attrs: Attrs;
  /** Forward input i (throws if the optional input is absent). */
  I(i: number): Value;
  /** Forward output i. */
  O(i: number): Value;
  /** Gradient flowing into output i; throws if none reaches it (check hasGO for optional outputs). */
  GO(i: number): Value;
  hasGO(i: number): boolean;
  /** Whether input i lies on a path from a requested parameter (emit nothing for the others). */
  needs(i: number): boolean;
  /**
   * The static values of constant input i (Pow's exponent, Dropout's ratio, axes, shapes, pads);
   * throws an AutodiffError naming the node and `what` when input i is not a build-time constant.
   */
  constInput(i: number, what: string): number[];
}

/**
 * Returns one entry per forward input: its gradient (in the input's shape, or in any shape that
 * broadcasts to the output — backward.ts reduces it), or null when not needed / not differentiable.
 */
export type GradFn = (ctx: GradContext) => (Value | null)[];

/** 'non-differentiable': the gradient is zero by definition (Greater, Shape…). */
export type GradRule = GradFn | 'non-differentiable';

/**
 * Raised at graph-build time for every gradient failure: missing rule, an attribute or input a rule
 * does not support, a shape that cannot be reduced (docs/autodiff.md, "Errors").
 */
export class AutodiffError extends Error {
  override name = 'AutodiffError';
}
