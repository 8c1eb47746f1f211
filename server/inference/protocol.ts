// SPDX-License-Identifier: MIT
/** Messages between the worker pool (main thread) and an inference worker. */
import type { ExecutionProviderChoice } from '../config.ts';
import type { GeneratorJob, InferenceFailure } from './generator.ts';
import type { ImageShape } from '../../common/image-shape.ts';
import type { ProviderName } from '../../common/ort-options.ts';
import type { NoiseStats } from '../../common/noise.ts';

export interface SessionSpec {
  readonly modelPath: string;
  /** The card's generation file (f with noise-calibrated BatchNorm statistics), or null. */
  readonly generatorPath: string | null;
  readonly inputName: string;
  readonly outputName: string;
  readonly dims: ImageShape;
  readonly ep: ExecutionProviderChoice;
  readonly cudaDeviceId: number;
  readonly threads: number;
  /** The card's noise statistics (any kind but Gaussian, which has none: null): /generate's z is drawn in the worker. */
  readonly noiseStats: NoiseStats | null;
  /** The process's WebGPU lock cell (device-lock.ts); absent where one thread owns every session. */
  readonly deviceLock?: SharedArrayBuffer;
}

export interface RunRequest extends GeneratorJob {
  readonly type: 'run';
  readonly id: number;
  /** Int32Array over a SharedArrayBuffer; non-zero = cancelled. */
  readonly cancelFlag: Int32Array;
}

export type ToWorker = RunRequest | { readonly type: 'close' };

export type FromWorker =
  | { readonly type: 'ready'; readonly provider: ProviderName; readonly fallbackReason: string | null; readonly ortVersion: string }
  | { readonly type: 'fatal'; readonly message: string }
  | {
      readonly type: 'result';
      readonly id: number;
      readonly outputs: Float32Array[];
      readonly residuals: Float32Array;
      readonly computeSeconds: number;
    }
  | { readonly type: 'cancelled'; readonly id: number }
  | { readonly type: 'failed'; readonly id: number; readonly code: InferenceFailure; readonly message: string };
