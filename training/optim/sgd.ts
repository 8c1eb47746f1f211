// SPDX-License-Identifier: MIT
/**
 * @file SGD with optional momentum and L2 weight decay, torch.optim.SGD semantics (dampening 0,
 * no Nesterov): g ← g + wd·p; buf′ = μ·buf + g; p′ = p − lr·buf′. A zero-initialised buffer
 * reproduces PyTorch's first step (buf = g). The learning rate is the scalar input `${ns}.lr`.
 *
 * API: emitSgd(b, params: AdamParam-like[], { momentum = 0, weightDecay = 0 }, ns = 'sgd') → SgdEmitted
 */
import type { Value } from '../onnx/ir.ts';
import type { GraphBuilder } from '../onnx/builder.ts';
import { ops } from '../onnx/ops.ts';
import type { StateUpdate } from '../nn/next.ts';

export interface SgdParam {
  name: string;
  value: Value;
  grad: Value;
}

export interface SgdEmitted {
  state: StateUpdate[];
  /** Momentum buffers (zeros at start); empty without momentum. */
  buffers: Value[];
  /** The learning-rate input name. */
  lr: string;
}

export function emitSgd(
  b: GraphBuilder,
  params: readonly SgdParam[],
  cfg: { momentum?: number; weightDecay?: number } = {},
  ns = 'sgd',
): SgdEmitted {
  const o = ops(b);
  const lrName = `${ns}.lr`;
  const lr = b.input(lrName, 'float32', [], { grad: false });
  const momentum = cfg.momentum ?? 0;
  const wd = cfg.weightDecay ?? 0;
  const state: StateUpdate[] = [];
  const buffers: Value[] = [];
  for (const p of params) {
    b.scope(`${ns}/${p.name}`, () => {
      const g = wd !== 0 ? o.add(p.grad, o.mul(p.value, wd)) : p.grad;
      let step = g;
      if (momentum !== 0) {
        const buf = b.input(`${p.value.name}.${ns}_buf`, 'float32', p.value.shape, { grad: false });
        step = o.add(o.mul(buf, momentum), g);
        buffers.push(buf);
        state.push({ input: buf, next: step });
      }
      state.push({ input: p.value, next: o.sub(p.value, o.mul(lr, step)) });
    });
  }
  return { state, buffers, lr: lrName };
}
