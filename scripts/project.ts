// SPDX-License-Identifier: MIT
/**
 * @file `npm run project -- --model models/mnist --image digit.png [--corrupt sketch] --k 3 --out p.png`:
 * projects an image onto the model's manifold. The image is decoded as POST /project decodes it
 * (common/image-input.ts): with `--normalize auto` (the default when the model card declares input
 * conventions) a digit drawn dark on light, off-centre, at any size is brought to the training
 * data's form first; `--normalize none` only resizes to cover the model's H×W. Then optionally
 * corrupted (noise σ 0.15, grayscale, sketch k 21, mask; docs/ign.md, "Corruptions") and written as
 * one row: input, [corrupted], f(·), f²(·), …, f^k(·).
 */
import { readFile } from 'node:fs/promises';
import { CORRUPTIONS, corrupt, isCorruptionKind } from '../common/corruptions.ts';
import { decodeImageToTensor } from '../common/image-input.ts';
import { Rng } from '../common/rng.ts';
import { openExportedModel } from '../training/eval/model-runner.ts';
import { writeGridPng } from '../training/trainer/image-grid.ts';
import { ConfigError } from '../training/config.ts';
import { parseFlags, runCli } from './cli.ts';

const HELP = `Project an image with an exported IGN: input, [corrupted], f(x), …, f^k(x).

usage: npm run project -- --model <dir> --image <file> [--normalize auto|none] [--corrupt ${CORRUPTIONS.join('|')}] [--k 3] [--seed 0] [--out projection.png]

--normalize auto (default when the model card declares input conventions) inverts a light
background, crops to the content, fits and centres it as the training data; none resizes only.`;

/** libvips' pixel limit for a local file (the server's default upload limit is far lower). */
const MAX_INPUT_PIXELS = 1 << 26;

async function main(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, {
    model: { type: 'string' },
    image: { type: 'string' },
    corrupt: { type: 'string' },
    normalize: { type: 'string' },
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
  if (values.normalize !== undefined && values.normalize !== 'auto' && values.normalize !== 'none')
    throw new ConfigError(`--normalize must be auto or none, got ${values.normalize}`);
  const model = await openExportedModel(values.model);
  const conventions = model.card.inputConventions ?? null;
  if (values.normalize === 'auto' && conventions === null)
    throw new ConfigError(`--normalize auto needs input conventions in the model card; ${values.model} declares none`);
  const image = values.image;
  const x = await readFile(image)
    .then((bytes) =>
      decodeImageToTensor(bytes, {
        target: model.shape,
        range: [-1, 1],
        maxInputPixels: MAX_INPUT_PIXELS,
        conventions: values.normalize === 'none' ? null : conventions,
      }),
    )
    .catch(async (err: unknown) => {
      await model.runner.release();
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
