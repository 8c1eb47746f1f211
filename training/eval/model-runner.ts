// SPDX-License-Identifier: MIT
/**
 * @file The one runner of an exported f: images (count×C×H×W in [-1, 1]) → f(images) and f^k, in
 * bounded chunks; and `openExportedModel(models/<name>)`, the folder opened for offline use
 * (evaluation, sample / project scripts, export checks): validated card, noise statistics, runner.
 */
import { readFile } from 'node:fs/promises';
import type { ImageShape } from '../../common/fft.ts';
import { loadModelCard, type ModelCard } from '../../common/model-card.ts';
import type { NoiseStats } from '../../common/noise.ts';
import { createSession, type Session, type SessionOptions } from '../runtime/ort.ts';
import { runBatched } from './batched.ts';

export class ModelRunner {
  private constructor(
    private readonly session: Session,
    readonly shape: ImageShape,
    private readonly inputName: string,
    private readonly outputName: string,
    /** The card's generation file (f with noise-calibrated BatchNorm statistics), or null. */
    private readonly generator: Session | null = null,
  ) {}

  static async open(
    modelPath: string,
    shape: ImageShape,
    io: { input?: string; output?: string } = {},
    options: SessionOptions = {},
    generatorPath: string | null = null,
  ): Promise<ModelRunner> {
    const session = await createSession(await readFile(modelPath), options);
    const input = io.input ?? session.inputNames[0];
    const output = io.output ?? session.outputNames[0];
    if (input === undefined || output === undefined) throw new Error(`${modelPath} has no input or output`);
    let generator: Session | null = null;
    try {
      if (generatorPath !== null) generator = await createSession(await readFile(generatorPath), options);
    } catch (err) {
      await session.release();
      throw err;
    }
    return new ModelRunner(session, shape, input, output, generator);
  }

  async apply(images: Float32Array): Promise<Float32Array> {
    return this.applyWith(this.session, images);
  }

  private async applyWith(session: Session, images: Float32Array): Promise<Float32Array> {
    const out = await runBatched(session, this.inputName, images, this.shape, [this.outputName]);
    const y = out[this.outputName]!;
    if (y.length !== images.length) throw new Error(`f returned ${y.length} values for ${images.length} inputs`);
    return y;
  }

  /** [f¹(x), f²(x), …, f^k(x)]. */
  iterate(images: Float32Array, k: number): Promise<Float32Array[]> {
    return this.steps(this.session, images, k);
  }

  /**
   * [f¹(z), …, f^k(z)] for source noise z, as the server's /generate computes them: the first
   * application runs the generation file when the card has one, the rest run f.
   */
  generate(z: Float32Array, k: number): Promise<Float32Array[]> {
    return this.steps(this.generator ?? this.session, z, k);
  }

  private async steps(first: Session, images: Float32Array, k: number): Promise<Float32Array[]> {
    const steps: Float32Array[] = [];
    let current = images;
    for (let i = 0; i < k; i++) {
      current = await this.applyWith(i === 0 ? first : this.session, current);
      steps.push(current);
    }
    return steps;
  }

  async release(): Promise<void> {
    await this.session.release();
    await this.generator?.release();
  }
}

export interface ExportedModel {
  readonly card: ModelCard;
  readonly shape: [number, number, number];
  readonly noiseStats: NoiseStats | null;
  readonly runner: ModelRunner;
}

export async function openExportedModel(dir: string, options: SessionOptions = {}): Promise<ExportedModel> {
  const { card, modelPath, generatorPath, noiseStats } = await loadModelCard(dir);
  const shape: [number, number, number] = [card.image.channels, card.image.height, card.image.width];
  const runner = await ModelRunner.open(modelPath, shape, { input: card.input.name, output: card.output.name }, options, generatorPath);
  return { card, shape, noiseStats, runner };
}
