// SPDX-License-Identifier: MIT
/**
 * @file Exponential moving average of θ and the BN running statistics, kept on the host beside the
 * StepRunner's state: after step t, ē ← d_t·ē + (1 − d_t)·θ with d_t = min(d, (1 + t)/(10 + t)),
 * so early averages are not dominated by the initial weights. The EMA f is what export and the
 * sample grids use when EMA is on; checkpoints hold it under `ema.<name>` for an exact resume.
 */
export const EMA_PREFIX = 'ema.';

/** Checkpoint tensors as export sees them: `ema.<name>` (when present) replaces `<name>`. */
export function withEmaApplied(tensors: Readonly<Record<string, Float32Array>>): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const [name, value] of Object.entries(tensors)) if (!name.startsWith(EMA_PREFIX)) out[name] = value;
  for (const [name, value] of Object.entries(tensors)) if (name.startsWith(EMA_PREFIX)) out[name.slice(EMA_PREFIX.length)] = value;
  return out;
}

export function emaDecay(decay: number, step: number): number {
  return Math.min(decay, (1 + step) / (10 + step));
}

export class Ema {
  private constructor(
    private readonly decay: number,
    private readonly averages: Map<string, Float32Array>,
  ) {}

  /** Starts the averages at `state[name]` for every name (copies), or at saved `ema.<name>` tensors. */
  static create(
    decay: number,
    names: readonly string[],
    state: Readonly<Record<string, Float32Array>>,
    saved?: Readonly<Record<string, Float32Array>>,
  ): Ema {
    const averages = new Map<string, Float32Array>();
    for (const name of names) {
      const source = saved?.[EMA_PREFIX + name] ?? state[name];
      if (!source) throw new Error(`EMA: no value for ${name}`);
      averages.set(name, Float32Array.from(source));
    }
    return new Ema(decay, averages);
  }

  update(state: Readonly<Record<string, Float32Array>>, step: number): void {
    const d = emaDecay(this.decay, step);
    const e = 1 - d;
    for (const [name, avg] of this.averages) {
      const cur = state[name]!;
      for (let i = 0; i < avg.length; i++) avg[i] = d * avg[i]! + e * cur[i]!;
    }
  }

  /** The averaged tensors under their own names (for export and sampling). */
  values(): Record<string, Float32Array> {
    return Object.fromEntries(this.averages);
  }

  /** The averaged tensors under `ema.<name>` (for checkpoints). */
  prefixed(): Record<string, Float32Array> {
    return Object.fromEntries([...this.averages].map(([k, v]) => [EMA_PREFIX + k, v]));
  }
}
