// SPDX-License-Identifier: MIT
/**
 * @file `npm run project -- --model models/mnist --image digit.png [--corrupt sketch] --k 3 --out p.png`:
 * projects an image onto the model's manifold. The image is resized to the model's H×W (and turned
 * grey or RGB), optionally corrupted (noise σ 0.15, grayscale, sketch k 21, mask; docs/ign.md,
 * "Corruptions"), then written as one row: input, [corrupted], f(·), f²(·), …, f^k(·).
 */
import sharp from 'sharp';
import { CORRUPTIONS, corrupt, isCorruptionKind } from '../common/corruptions.ts';
import { Rng } from '../common/rng.ts';
import { openExportedModel } from '../training/eval/model-runner.ts';
import { writeGridPng } from '../training/trainer/image-grid.ts';
import { ConfigError } from '../training/config.ts';
import { parseFlags, runCli } from './cli.ts';

const HELP = `Project an image with an exported IGN: input, [corrupted], f(x), …, f^k(x).

usage: npm run project -- --model <dir> --image <file> [--corrupt ${CORRUPTIONS.join('|')}] [--k 3] [--seed 0] [--out projection.png] [--debug]`;

/** The image as C×H×W floats in [-1, 1]. */
async function readImage(path: string, [c, h, w]: [number, number, number]): Promise<Float32Array> {
  let pipeline = sharp(path).resize(w, h, { fit: 'cover' }).removeAlpha();
  pipeline = c === 1 ? pipeline.grayscale() : pipeline.toColourspace('srgb');
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== c) throw new Error(`decoded ${info.channels} channels, the model needs ${c}`);
  const out = new Float32Array(c * h * w);
  for (let ch = 0; ch < c; ch++) for (let p = 0; p < h * w; p++) out[ch * h * w + p] = data[p * c + ch]! / 127.5 - 1;
  return out;
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, {
    model: { type: 'string' },
    image: { type: 'string' },
    corrupt: { type: 'string' },
    k: { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string' },
    help: { type: 'boolean' },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  if (!values.model || !values.image) throw new ConfigError('--model and --image are required (see --help)');
  const k = Number(values.k ?? 3);
  if (!Number.isInteger(k) || k < 1) throw new ConfigError(`--k must be a positive integer, got ${values.k}`);
  if (values.corrupt !== undefined && !isCorruptionKind(values.corrupt))
    throw new ConfigError(`--corrupt must be one of ${CORRUPTIONS.join(', ')}`);
  const seed = Number(values.seed ?? 0);
  if (!Number.isInteger(seed) || seed < 0) throw new ConfigError(`--seed must be an integer ≥ 0, got ${values.seed}`);
  const model = await openExportedModel(values.model);
  const image = values.image;
  const x = await readImage(image, model.shape).catch((err: unknown) => {
    throw new ConfigError(`cannot read image ${image}: ${err instanceof Error ? err.message : String(err)}`);
  });
  const input = values.corrupt ? corrupt(values.corrupt, x, model.shape, new Rng(seed)) : x;
  const outs = await model.runner.iterate(input, k);
  const tiles = [x, ...(values.corrupt ? [input] : []), ...outs];
  const row = new Float32Array(tiles.length * x.length);
  tiles.forEach((t, i) => {
    row.set(t, i * x.length);
  });
  const out = values.out ?? 'projection.png';
  await writeGridPng(out, [{ images: row, count: tiles.length }], model.shape);
  await model.runner.release();
  process.stderr.write(`wrote ${out}: input${values.corrupt ? `, ${values.corrupt}` : ''}, f … f^${k}\n`);
  return 0;
}

runCli('project', main);
