// SPDX-License-Identifier: MIT
/**
 * Tiny real ONNX models for server tests, built with our own builder (no mocks of ONNX Runtime):
 * x [N,C,H,W] → y [N,C,H,W] with a dynamic batch axis, plus a model card beside it.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GraphBuilder } from '../../training/onnx/builder.ts';
import { ops } from '../../training/onnx/ops.ts';
import { serialize } from '../../training/onnx/serialize.ts';
import { Rng } from '../../common/rng.ts';
import { computeNoiseStats, NOISE_STATS_FILE, type NoiseKind } from '../../common/noise.ts';
import { serializeNoiseStats } from '../../common/noise-stats-file.ts';
import type { InputConventions } from '../../common/model-card.ts';

export interface TinyModelOptions {
  channels: number;
  height: number;
  width: number;
  /**
   * 'tanh-scale': y = tanh(0.8·x + 0.1), a contraction with a fixed point per pixel, so f^k converges
   * and residuals shrink; 'identity': y = x; 'nan': y = log(x − 10) = NaN everywhere.
   */
  kind?: 'tanh-scale' | 'identity' | 'nan';
  /** 'fourier' / 'covariance' / 'fourier-mixture' (2 components): the card names that noise and statistics of 16 seeded random images are written. */
  noise?: NoiseKind;
  /** Written to the card's `inputConventions` (POST /project then normalises uploads by default). */
  conventions?: InputConventions;
  /** Also write generator.onnx of this kind and name it in the card's `generation` (a BatchNorm card). */
  generator?: 'tanh-scale' | 'identity' | 'nan';
}

export function tinyModelBytes(opts: TinyModelOptions): Uint8Array {
  const b = new GraphBuilder('tiny');
  const o = ops(b);
  const x = b.input('x', 'float32', [1, opts.channels, opts.height, opts.width], { grad: false });
  const kind = opts.kind ?? 'tanh-scale';
  let y;
  if (kind === 'identity') y = o.identity(x);
  else if (kind === 'nan') y = o.log(o.sub(x, 10));
  else y = o.tanh(o.add(o.mul(x, 0.8), 0.1));
  b.output(y, 'y');
  return serialize(b.build(), { dynamicBatch: true, metadata: { kind } });
}

export function tinyModelCard(opts: TinyModelOptions, name = 'tiny'): Record<string, unknown> {
  const { channels: c, height: h, width: w } = opts;
  return {
    schemaVersion: 1,
    name,
    version: '1',
    description: `tiny ${opts.kind ?? 'tanh-scale'} test model`,
    created: new Date(0).toISOString(),
    file: 'model.onnx',
    opset: 17,
    input: { name: 'x', shape: [-1, c, h, w] },
    output: { name: 'y', shape: [-1, c, h, w] },
    image: { channels: c, height: h, width: w, valueRange: [-1, 1] },
    noise: opts.noise === undefined || opts.noise === 'gaussian' ? { kind: 'gaussian' } : { kind: opts.noise, statsFile: NOISE_STATS_FILE },
    normalization: { kind: 'none', mode: 'eval' },
    seed: 0,
    training: {
      preset: 'none',
      config: {},
      commands: ['tests/support/tiny-model.ts'],
      dataset: 'none',
      steps: 0,
      epochs: 0,
      wallTimeSeconds: 0,
    },
    evaluation: null,
    ...(opts.conventions && { inputConventions: opts.conventions }),
    ...(opts.generator && {
      normalization: { kind: 'batch', mode: 'eval' },
      generation: { file: 'generator.onnx', calibration: { images: 1, seed: 0, source: 'tests' } },
    }),
  };
}

/** Write model.onnx + model.json into `dir` (created if needed). */
export async function writeTinyModelDir(dir: string, opts: TinyModelOptions, name = 'tiny'): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'model.onnx'), tinyModelBytes(opts));
  if (opts.generator) await writeFile(join(dir, 'generator.onnx'), tinyModelBytes({ ...opts, kind: opts.generator }));
  await writeFile(join(dir, 'model.json'), `${JSON.stringify(tinyModelCard(opts, name), null, 2)}\n`);
  if (opts.noise !== undefined && opts.noise !== 'gaussian') {
    const shape = [opts.channels, opts.height, opts.width] as const;
    const images = new Rng(0).fillUniform(new Float32Array(16 * opts.channels * opts.height * opts.width), -1, 1);
    await writeFile(
      join(dir, NOISE_STATS_FILE),
      serializeNoiseStats(computeNoiseStats(opts.noise, images, 16, shape, { mixtureComponents: 2 })!),
    );
  }
}
