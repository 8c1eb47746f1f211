// SPDX-License-Identifier: MIT
/**
 * @file The one seeded random source of the project (training init, noise, shuffling, gradchecks,
 * server sampling). xoshiro128** seeded through splitmix32, so a seed gives the same stream on every
 * platform; state() / fromState() make checkpoints resume exactly.
 */

export type RngState = readonly [number, number, number, number];

function splitmix32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x9e3779b9) >>> 0;
    let z = a;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

export class Rng {
  // The state words are kept as int32 (the same bits as the uint32 words of the algorithm): V8 holds
  // int32 as small integers, while uint32 values above 2^31 − 1 are doubles, and converting them on
  // every step made nextU32() about six times slower. Outputs and state() are uint32 as before.
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  /** Second Box–Muller variate, kept so normal() wastes nothing and stays reproducible. */
  private spare = 0;
  /** Whether `spare` holds an unused variate (a flag, so the field stays a plain double). */
  private hasSpare = false;

  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new RangeError(`seed must be an integer in [0, 2^32-1], got ${seed}`);
    }
    const next = splitmix32(seed);
    this.s0 = next() | 0;
    this.s1 = next() | 0;
    this.s2 = next() | 0;
    this.s3 = next() | 0;
  }

  static fromState(state: RngState): Rng {
    const rng = new Rng(0);
    rng.s0 = state[0] | 0;
    rng.s1 = state[1] | 0;
    rng.s2 = state[2] | 0;
    rng.s3 = state[3] | 0;
    return rng;
  }

  /** Snapshot for checkpoints (uint32 words); the Box–Muller spare is dropped, so snapshot between calls. */
  state(): RngState {
    this.hasSpare = false;
    return [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0];
  }

  /** xoshiro128**: result = rotl(s1·5, 7)·9, then the linear state update, all on int32 bits. */
  nextU32(): number {
    const s1 = this.s1;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= s1;
    this.s1 = s1 ^ this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  uniform(): number {
    return this.nextU32() / 4294967296;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Standard normal by Box–Muller; u1 is kept away from 0 so log() stays finite. */
  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
    }
    const u1 = (this.nextU32() + 1) / 4294967297;
    const u2 = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    this.spare = r * Math.sin(2 * Math.PI * u2);
    this.hasSpare = true;
    return r * Math.cos(2 * Math.PI * u2);
  }

  fillNormal(out: Float32Array, mean = 0, std = 1): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = mean + std * this.normal();
    return out;
  }

  fillUniform(out: Float32Array, low = 0, high = 1): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = low + (high - low) * this.uniform();
    return out;
  }

  /** Fisher–Yates in place (arrays and typed arrays). */
  shuffle<A extends { length: number; [index: number]: unknown }>(items: A): A {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
    return items;
  }

  /** An independent stream derived from this seed and a label (e.g. 'init', 'noise'). */
  fork(label: string): Rng {
    let h = 2166136261;
    for (const ch of label) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
    return new Rng((this.nextU32() ^ h) >>> 0);
  }
}

/** Rotate left on int32 bits (the result is int32; callers take >>> 0 where they need uint32). */
function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
