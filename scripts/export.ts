// SPDX-License-Identifier: MIT
/**
 * @file `npm run export -- --checkpoint runs/x/ckpt --out models/mnist [--name mnist]`: writes f
 * from a training checkpoint as models/<name>/model.onnx + model.json (+ noise-stats.bin).
 */
import { ConfigError } from '../training/config.ts';
import { withEmaApplied } from '../training/trainer/ema.ts';
import { readCheckpoint } from '../training/trainer/checkpoint.ts';
import { exportModel } from '../training/trainer/export.ts';
import { parseFlags, runCli } from './cli.ts';

const HELP = `Export f from a training checkpoint for serving.

usage: npm run export -- --checkpoint <dir> --out <models/name> [--name <card name>]
  --checkpoint <dir>   checkpoint folder written by training (e.g. runs/x/ckpt)
  --out <dir>          model folder to write (model.onnx, model.json, noise-stats.bin)
  --name <name>        model name in the card (default: the folder name)
  --debug              print stack traces of errors
  --help               show this help`;

async function main(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, {
    checkpoint: { type: 'string' },
    out: { type: 'string' },
    name: { type: 'string' },
    help: { type: 'boolean' },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  if (!values.checkpoint || !values.out) throw new ConfigError('--checkpoint and --out are required (see --help)');
  const { meta, tensors, noiseStats } = await readCheckpoint(values.checkpoint);
  const perEpoch = Math.max(1, Math.floor(meta.batcher.n / meta.config.batch));
  const card = await exportModel(values.out, {
    config: meta.config,
    imageShape: meta.imageShape,
    tensors: withEmaApplied(tensors),
    noiseStats,
    steps: meta.step,
    epochs: Number((meta.step / perEpoch).toFixed(3)),
    wallTimeSeconds: meta.wallTimeSeconds,
    commands: [...meta.commands, ['npm run export --', ...argv].join(' ')],
    dataset: meta.dataset,
    ...(values.name ? { name: values.name } : {}),
  });
  process.stderr.write(`exported ${card.name} (step ${meta.step}) to ${values.out}\n`);
  return 0;
}

runCli('export', main);
