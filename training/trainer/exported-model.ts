// SPDX-License-Identifier: MIT
/**
 * @file An exported models/<name> folder opened for offline use (sample / project scripts, export
 * checks): the validated card, an ORT session of model.onnx, its noise statistics, and f^k.
 */
import { readFile } from 'node:fs/promises';
import { loadModelCard } from '../../common/model-card.ts';
import type { ModelCard } from '../../common/model-card.ts';
import type { FourierStats } from '../../common/noise.ts';
import { createSession } from '../runtime/ort.ts';
import type { Session, SessionOptions } from '../runtime/ort.ts';

export interface ExportedModel {
  card: ModelCard;
  shape: [number, number, number];
  noiseStats: FourierStats | null;
  /** [f(x), f²(x), …, f^k(x)] for `count` images in x (count×C×H×W). */
  iterate(x: Float32Array, count: number, k: number): Promise<Float32Array[]>;
  release(): Promise<void>;
}

export async function openExportedModel(dir: string, options: SessionOptions = {}): Promise<ExportedModel> {
  const { card, modelPath, noiseStats } = await loadModelCard(dir);
  const session: Session = await createSession(await readFile(modelPath), options);
  const shape: [number, number, number] = [card.image.channels, card.image.height, card.image.width];
  return {
    card, shape, noiseStats,
    async iterate(x, count, k) {
      const outs: Float32Array[] = [];
      let current = x;
      for (let i = 0; i < k; i++) {
        const result = await session.run({ [card.input.name]: { dtype: 'float32', shape: [count, ...shape], data: current } });
        current = result[card.output.name]!.data as Float32Array;
        outs.push(current);
      }
      return outs;
    },
    release: () => session.release(),
  };
}
