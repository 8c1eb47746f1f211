// SPDX-License-Identifier: MIT
/**
 * @file The state-swap naming convention shared by graph builders and StepRunner: a graph input `X`
 * whose updated value is the graph output `X.next` is state (parameters, Adam moments, BN running
 * statistics); StepRunner feeds `X.next` back as `X` on the next step.
 */
import type { Value } from '../onnx/ir.ts';
import type { GraphBuilder } from '../onnx/builder.ts';

export const NEXT_SUFFIX = '.next';

/** One piece of state: the graph input and its value after this step. */
export interface StateUpdate {
  readonly input: Value;
  readonly next: Value;
}

export function nextName(inputName: string): string {
  return `${inputName}${NEXT_SUFFIX}`;
}

/** Emit `${input.name}.next` outputs for every update (an unchanged state needs no output). */
export function outputNext(b: GraphBuilder, updates: readonly StateUpdate[]): Value[] {
  return updates.map((u) => b.output(u.next, nextName(u.input.name)));
}
