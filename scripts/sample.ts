// SPDX-License-Identifier: MIT
/**
 * @file `npm run sample -- --model models/mnist --count 16 --k 3 --out samples.png`: draws noise z
 * the way the model was trained (gaussian or Fourier statistics), applies f k times and writes a
 * grid PNG whose rows are z, f(z), f²(z), …, f^k(z).
 */
import { parseArgs } from 'node:util';
import { sampleNoise } from '../common/noise.ts';
import { Rng } from '../common/rng.ts';
import { openExportedModel } from '../training/eval/model-runner.ts';
import { writeGridPng } from '../training/trainer/image-grid.ts';

const HELP = `Sample from an exported IGN: rows z, f(z), …, f^k(z).

usage: npm run sample -- --model <dir> [--count 16] [--k 3] [--seed 0] [--out samples.png]`;

function positiveInt(raw: string | undefined, fallback: number, name: string): number {
  const v = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer, got ${raw}`);
  return v;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { model: { type: 'string' }, count: { type: 'string' }, k: { type: 'string' }, seed: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean' } },
    strict: true,
  });
  if (values.help || !values.model) {
    process.stdout.write(`${HELP}\n`);
    return values.help ? 0 : 2;
  }
  const count = positiveInt(values.count, 16, 'count');
  const k = positiveInt(values.k, 3, 'k');
  const seed = Number(values.seed ?? 0);
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`--seed must be an integer ≥ 0, got ${values.seed}`);
  const model = await openExportedModel(values.model);
  const z = sampleNoise(model.card.noise, model.noiseStats, model.shape, new Rng(seed), count);
  const outs = await model.runner.iterate(z, k);
  const out = values.out ?? 'samples.png';
  await writeGridPng(out, [z, ...outs].map((images) => ({ images, count })), model.shape);
  await model.runner.release();
  process.stderr.write(`wrote ${out}: ${count} samples, rows z, f(z) … f^${k}(z)\n`);
  return 0;
}

main().then((code) => process.exit(code), (err: unknown) => {
  process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
