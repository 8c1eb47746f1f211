// SPDX-License-Identifier: MIT
/**
 * @file One application context of a model: which ParamSet, train or eval mode, and the current
 * value of every buffer. Applying a model several times in one graph (IGN: f(x), f(z), f(f(z)))
 * with one context chains BN running-stat updates in call order, as PyTorch's train mode does.
 *
 * API: createContext(b, params, training) → NnContext; bufferUpdates(ctx) → StateUpdate[].
 */
import type { Value } from '../onnx/ir.ts';
import type { GraphBuilder } from '../onnx/builder.ts';
import { ops } from '../onnx/ops.ts';
import type { Ops } from '../onnx/ops.ts';
import type { ParamSet } from './params.ts';
import type { StateUpdate } from './next.ts';

export interface NnContext {
  readonly b: GraphBuilder;
  readonly o: Ops;
  readonly params: ParamSet;
  /** BN uses batch statistics and updates its buffers when true. */
  readonly training: boolean;
  /** Current buffer values by name (no prefix); BN reads here (else the declared input) and writes its update. */
  readonly buffers: Map<string, Value>;
}

export function createContext(b: GraphBuilder, params: ParamSet, training: boolean): NnContext {
  return { b, o: ops(b), params, training, buffers: new Map() };
}

/** The buffer value a layer should read now: the latest update, else the declared graph input. */
export function currentBuffer(ctx: NnContext, name: string, declared: Value): Value {
  return ctx.buffers.get(name) ?? declared;
}

/** Buffers whose value changed in this context, as (graph input, updated value) pairs for outputNext. */
export function bufferUpdates(ctx: NnContext): StateUpdate[] {
  const declared = ctx.params.values();
  const updates: StateUpdate[] = [];
  for (const [name, next] of ctx.buffers) {
    const input = declared.get(name);
    if (!input) throw new Error(`buffer ${name} was never declared in ParamSet`);
    if (input !== next) updates.push({ input, next });
  }
  return updates;
}
