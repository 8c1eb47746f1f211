// SPDX-License-Identifier: MIT
/** The saved evaluation classifier as a callable: images → logits and penultimate features. */
import type { ImageShape } from '../../common/fft.ts';
import { createSession, type Session } from '../runtime/ort.ts';
import { runBatched } from './batched.ts';
import { FEATURES_OUTPUT, LOGITS_OUTPUT } from './classifier-graph.ts';

export interface Classification {
  /** count×classes */
  readonly logits: Float32Array;
  /** count×featureDim */
  readonly features: Float32Array;
}

export class ClassifierRunner {
  private constructor(
    private readonly session: Session,
    readonly shape: ImageShape,
    readonly classes: number,
  ) {}

  static async fromBytes(onnx: Uint8Array, shape: ImageShape, classes: number, threads?: number): Promise<ClassifierRunner> {
    return new ClassifierRunner(await createSession(onnx, threads === undefined ? {} : { threads }), shape, classes);
  }

  async classify(images: Float32Array): Promise<Classification> {
    const out = await runBatched(this.session, this.session.inputNames[0] ?? 'x', images, this.shape, [LOGITS_OUTPUT, FEATURES_OUTPUT]);
    return { logits: out[LOGITS_OUTPUT]!, features: out[FEATURES_OUTPUT]! };
  }

  /** Feature dimension, read from the first classification's output length. */
  static featureDim(c: Classification, count: number): number {
    return c.features.length / count;
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
