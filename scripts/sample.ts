// SPDX-License-Identifier: MIT
/**
 * @file `npm run sample -- --model models/mnist --count 16 --k 3 --out samples.png`: draws noise z
 * the way the model was trained (gaussian or Fourier statistics), applies f k times and writes a
 * grid PNG whose rows are z, f(z), f²(z), …, f^k(z).
 */
import { sampleNoise } from '../common/noise.ts';
import { Rng } from '../common/rng.ts';
import { openExportedModel } from '../training/eval/model-runner.ts';
import { writeGridPng } from '../training/trainer/image-grid.ts';
import { ConfigError } from '../training/config.ts';
import { parseFlags, runCli } from './cli.ts';

const HELP = `Sample from an exported IGN: rows z, f(z), …, f^k(z).

usage: npm run sample -- --model <dir> [--count 16] [--k 3] [--seed 0] [--out samples.png] [--debug]`;

function positiveInt(raw: string | undefined, fallback: number, name: string): number {
  const v = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(v) || v < 1) throw new ConfigError(`--${name} must be a positive integer, got ${raw}`);
  return v;
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, {
    model: { type: 'string' },
    count: { type: 'string' },
    k: { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string' },
    help: { type: 'boolean' },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  if (!values.model) throw new ConfigError('--model is required (see --help)');
  const count = positiveInt(values.count, 16, 'count');
  const k = positiveInt(values.k, 3, 'k');
  const seed = Number(values.seed ?? 0);
  if (!Number.isInteger(seed) || seed < 0) throw new ConfigError(`--seed must be an integer ≥ 0, got ${values.seed}`);
  const model = await openExportedModel(values.model);
  const z = sampleNoise(model.card.noise, model.noiseStats, model.shape, new Rng(seed), count);
  const outs = await model.runner.generate(z, k);
  const out = values.out ?? 'samples.png';
  await writeGridPng(
    out,
    [z, ...outs].map((images) => ({ images, count })),
    model.shape,
  );
  await model.runner.release();
  process.stderr.write(`wrote ${out}: ${count} samples, rows z, f(z) … f^${k}(z)\n`);
  return 0;
}

runCli('sample', main);
