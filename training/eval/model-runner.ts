// SPDX-License-Identifier: MIT
/**
 * @file The one runner of an exported f: images (count×C×H×W in [-1, 1]) → f(images) and f^k, in
 * bounded chunks; and `openExportedModel(models/<name>)`, the folder opened for offline use
 * (evaluation, sample / project scripts, export checks): validated card, noise statistics, runner.
 */
import { readFile } from 'node:fs/promises';
import type { ImageShape } from '../../common/fft.ts';
import { loadModelCard, type ModelCard } from '../../common/model-card.ts';
import type { FourierStats } from '../../common/noise.ts';
import { createSession, type Session, type SessionOptions } from '../runtime/ort.ts';
import { runBatched } from './batched.ts';

export class ModelRunner {
  private constructor(
    private readonly session: Session,
    readonly shape: ImageShape,
    private readonly inputName: string,
    private readonly outputName: string,
  ) {}

  static async open(
    modelPath: string,
    shape: ImageShape,
    io: { input?: string; output?: string } = {},
    options: SessionOptions = {},
  ): Promise<ModelRunner> {
    const session = await createSession(await readFile(modelPath), options);
    const input = io.input ?? session.inputNames[0];
    const output = io.output ?? session.outputNames[0];
    if (input === undefined || output === undefined) throw new Error(`${modelPath} has no input or output`);
    return new ModelRunner(session, shape, input, output);
  }

  async apply(images: Float32Array): Promise<Float32Array> {
    const out = await runBatched(this.session, this.inputName, images, this.shape, [this.outputName]);
    const y = out[this.outputName]!;
    if (y.length !== images.length) throw new Error(`f returned ${y.length} values for ${images.length} inputs`);
    return y;
  }

  /** [f¹(x), f²(x), …, f^k(x)]. */
  async iterate(images: Float32Array, k: number): Promise<Float32Array[]> {
    const steps: Float32Array[] = [];
    let current = images;
    for (let i = 0; i < k; i++) {
      current = await this.apply(current);
      steps.push(current);
    }
    return steps;
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

export interface ExportedModel {
  readonly card: ModelCard;
  readonly shape: [number, number, number];
  readonly noiseStats: FourierStats | null;
  readonly runner: ModelRunner;
}

export async function openExportedModel(dir: string, options: SessionOptions = {}): Promise<ExportedModel> {
  const { card, modelPath, noiseStats } = await loadModelCard(dir);
  const shape: [number, number, number] = [card.image.channels, card.image.height, card.image.width];
  const runner = await ModelRunner.open(modelPath, shape, { input: card.input.name, output: card.output.name }, options);
  return { card, shape, noiseStats, runner };
}
