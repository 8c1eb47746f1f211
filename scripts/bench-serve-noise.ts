// SPDX-License-Identifier: MIT
/**
 * @file The source-noise draw of a model directory (its card's kind and statistics, the same
 * sampleNoise call /generate's worker makes), timed per image: one image per draw as a single
 * /generate request, and eight per draw as a batch. bench-serve.ts prints it next to raw
 * session.run, so the per-request work outside the model is measured in the same run.
 *
 * Usage: tsx scripts/bench-serve-noise.ts <modelDir> [seconds per count] [counts, default 1,8]
 * Prints one JSON line: [{count, draws, usPerImage}, ...]
 */
import { loadModelCard } from '../common/model-card.ts';
import { sampleNoise } from '../common/noise.ts';
import { Rng } from '../common/rng.ts';
import { ConfigError } from '../training/config.ts';
import { runCli } from './cli.ts';

export interface NoiseResult {
  readonly count: number;
  readonly draws: number;
  /** Mean wall time per image drawn, µs. */
  readonly usPerImage: number;
}

async function main(argv: string[]): Promise<undefined> {
  const [modelDir, secondsArg = '1', countsArg = '1,8'] = argv;
  if (modelDir === undefined) throw new ConfigError('usage: bench-serve-noise.ts <modelDir> [seconds] [counts]');
  const model = await loadModelCard(modelDir);
  const { channels, height, width } = model.card.image;
  const results: NoiseResult[] = [];
  for (const count of countsArg.split(',').map(Number)) {
    let seed = 0;
    const draw = (): Float32Array => sampleNoise(model.card.noise, model.noiseStats, [channels, height, width], new Rng(seed++), count);
    for (let i = 0; i < 20; i++) draw(); // warm-up: let V8 optimise the sampler
    const start = performance.now();
    let draws = 0;
    while (performance.now() - start < Number(secondsArg) * 1000) {
      draw();
      draws++;
    }
    results.push({ count, draws, usPerImage: ((performance.now() - start) * 1000) / (draws * count) });
  }
  process.stdout.write(`${JSON.stringify(results)}\n`);
}

runCli('bench-serve-noise', main);
