// SPDX-License-Identifier: MIT
/** Training-test helpers: a tiny-f configuration, a silent progress stream, exporting a finished run. */
import { resolveConfig } from '../../training/config.ts';
import type { ConfigOverrides, TrainConfig } from '../../training/config.ts';
import type { TrainResult } from '../../training/trainer/trainer.ts';
import { exportModel } from '../../training/trainer/export.ts';
import type { ModelCard } from '../../common/model-card.ts';

export const quietProgress = { write: () => true, isTTY: false };

/** The tiny BatchNorm f with sampling and intermediate checkpoints off; `overrides` win. */
export function tinyTrainConfig(out: string, overrides: ConfigOverrides = {}): TrainConfig {
  return resolveConfig({
    model: { arch: 'tiny', norm: 'batch', width: 8 },
    optim: { lr: 1e-3 },
    sampleEvery: 0,
    checkpointEvery: 0,
    logEvery: 50,
    out,
    ...overrides,
  });
}

/** Exports a finished run to `modelDir` with the given epoch count and commands. */
export function exportRun(
  modelDir: string,
  config: TrainConfig,
  r: TrainResult,
  epochs: number,
  commands: readonly string[],
): Promise<ModelCard> {
  return exportModel(modelDir, {
    config,
    imageShape: r.run.imageShape,
    tensors: r.tensors,
    noiseStats: r.run.noiseStats,
    steps: r.step,
    epochs,
    wallTimeSeconds: r.wallTimeSeconds,
    commands,
    dataset: r.run.dataset.name,
  });
}
