// SPDX-License-Identifier: MIT
/**
 * @file `npm run project -- --model models/mnist --image digit.png [--corrupt sketch] --k 3 --out p.png`:
 * projects an image onto the model's manifold. The image is resized to the model's H×W (and turned
 * grey or RGB), optionally corrupted (noise σ 0.15, grayscale, sketch k 21, mask; ign-paper-notes
 * §7), then written as one row: input, [corrupted], f(·), f²(·), …, f^k(·).
 */
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { CORRUPTIONS, corrupt, isCorruptionKind } from '../common/corruptions.ts';
import { Rng } from '../common/rng.ts';
import { openExportedModel } from '../training/eval/model-runner.ts';
import { writeGridPng } from '../training/trainer/image-grid.ts';

const HELP = `Project an image with an exported IGN: input, [corrupted], f(x), …, f^k(x).

usage: npm run project -- --model <dir> --image <file> [--corrupt ${CORRUPTIONS.join('|')}] [--k 3] [--seed 0] [--out projection.png]`;

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

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' }, image: { type: 'string' }, corrupt: { type: 'string' }, k: { type: 'string' },
      seed: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help || !values.model || !values.image) {
    process.stdout.write(`${HELP}\n`);
    return values.help ? 0 : 2;
  }
  const k = Number(values.k ?? 3);
  if (!Number.isInteger(k) || k < 1) throw new Error(`--k must be a positive integer, got ${values.k}`);
  if (values.corrupt !== undefined && !isCorruptionKind(values.corrupt)) throw new Error(`--corrupt must be one of ${CORRUPTIONS.join(', ')}`);
  const model = await openExportedModel(values.model);
  const x = await readImage(values.image, model.shape);
  const input = values.corrupt ? corrupt(values.corrupt, x, model.shape, new Rng(Number(values.seed ?? 0))) : x;
  const outs = await model.runner.iterate(input, k);
  const tiles = [x, ...(values.corrupt ? [input] : []), ...outs];
  const row = new Float32Array(tiles.length * x.length);
  tiles.forEach((t, i) => { row.set(t, i * x.length); });
  const out = values.out ?? 'projection.png';
  await writeGridPng(out, [{ images: row, count: tiles.length }], model.shape);
  await model.runner.release();
  process.stderr.write(`wrote ${out}: input${values.corrupt ? `, ${values.corrupt}` : ''}, f … f^${k}\n`);
  return 0;
}

main().then((code) => process.exit(code), (err: unknown) => {
  process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
