// SPDX-License-Identifier: MIT
/**
 * @file The contract between the HTTP layer and whatever computes f^k. The production
 * implementation is the worker pool (pool.ts); queue tests inject a deterministic slow one.
 */

import type { ImageShape } from '../../common/image-shape.ts';
import type { ProviderName } from '../../common/ort-options.ts';
import type { NoiseSpec } from '../../common/noise.ts';

/**
 * Source noise z for /generate, drawn by the thread that runs f (job-input.ts): `count` images of
 * `new Rng(seed)`'s stream, or with `to` the straight path from seed's first image to to's.
 */
export interface NoiseDraw {
  readonly spec: NoiseSpec;
  readonly shape: ImageShape;
  readonly seed: number;
  readonly to?: number;
  readonly count: number;
}

/** Images (N×C×H×W, values in the model's range) or noise to draw; a job's parts are laid end to end. */
export type InputPart = Float32Array | NoiseDraw;

/**
 * The one description of an f^k request, from route to worker: the queue adds its deadline and
 * signal (QueueRequest), the worker message its id and cancel flag (RunRequest), the session its
 * cancellation check (StepRun). Each layer extends this type instead of restating it.
 */
export interface GeneratorJob {
  /** `count` images in all, as parts (a merged batch holds one or more per request). */
  readonly input: readonly InputPart[];
  readonly count: number;
  /** k ≥ 1: apply f k times. */
  readonly steps: number;
  /** true: return every f^i (i = 1..k); false: only f^k. */
  readonly keepSteps: boolean;
  /**
   * true: the input is source noise z and the model has a generation file (f with BatchNorm
   * statistics calibrated on noise): the first application runs that file, later ones run f.
   * /generate sets it only for such models, so elsewhere noise and images still batch together.
   */
  readonly useGenerationFile?: boolean;
}

export interface GeneratorResult {
  /** keepSteps ? k arrays (f^1..f^k) : [f^k], each N×C×H×W. */
  readonly outputs: Float32Array[];
  /**
   * residuals[i·N + n] = RMS per pixel of f^(i+1)(x_n) − f^i(x_n), with f^0 = x; i = 0..k−1. So
   * residuals[n] is δ(x_n) = ‖f(x) − x‖ and residuals[(k−1)·N + n] the idempotence residual.
   */
  readonly residuals: Float32Array;
  readonly computeSeconds: number;
}

export interface GeneratorInfo {
  readonly provider: ProviderName;
  readonly fallback: boolean;
  readonly ortVersion: string;
}

export interface Generator {
  ready(): boolean;
  info(): GeneratorInfo;
  /** Rejects with CancelledError when `signal` aborts (checked between steps). */
  run(job: GeneratorJob, signal: AbortSignal): Promise<GeneratorResult>;
  close(): Promise<void>;
}

export type InferenceFailure = 'inference_failed' | 'invalid_model_output';

export class InferenceError extends Error {
  override readonly name = 'InferenceError';
  constructor(
    readonly code: InferenceFailure,
    message: string,
  ) {
    super(message);
  }
}

export class CancelledError extends Error {
  override readonly name = 'CancelledError';
}
