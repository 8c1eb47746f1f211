// SPDX-License-Identifier: MIT
/**
 * @file npm run calibrate-bn -- models/<name> [--out <dir>] [--source serving|clean|noise|samples | --generator]
 *   [--mixture p] [--bn-blend a] [--batches 16] [--batch 500] [--seed 0] [--threads N]
 * Recalibrates the BatchNorm running statistics of an exported f on calibration images (default:
 * clean and corrupted training images, what a served projector is sent), rewrites model.onnx (or
 * writes generator.onnx) and model.json, and clears the card's evaluation: run `npm run evaluate`
 * on the result before serving it.
 */
import { fractionOption, intOption, modelFolderArgument, threadsOption } from '../training/eval/cli-args.ts';
import { recalibrateExport } from '../training/trainer/recalibrate-export.ts';
import type { CalibrationSource } from '../training/trainer/recalibrate-export.ts';
import { parseFlags, runCli } from './cli.ts';

const USAGE = `usage: npm run calibrate-bn -- models/<name> [--out <dir>] [--source serving [--clean-share 0.5] | --source samples [--mixture p] | --generator [--mixture p]] [--bn-blend a] [--batches 16] [--batch 500] [--seed 0] [--threads N] [--debug]
  Recalibrates the BatchNorm running statistics of f on calibration images.
  --out <dir>     write the recalibrated model here (default: in place)
  --source <s>    serving: clean and corrupted training images, alternately (default);
                  clean: training images only; noise: the model's noise z;
                  samples: f's own samples f(z), as /generate's first application gives them
                  (the statistics f(f(z)) had in training)
  --clean-share <q>  serving: the share of clean batches, the rest corrupted (default 0.5)
  --generator     write generator.onnx instead (statistics from the noise z), which the first
                  application of /generate, npm run sample and the evaluation's samples run;
                  model.onnx is kept
  --mixture <p>   noise and samples calibrations: a share p of each z batch is a corrupted training
                  image, as in the z batches of training (their --source-mix; default 0: noise only)
  --bn-blend <a>  blended BatchNorm: each image's own statistics' share in [0, 1] for the
                  calibration and the written graph (default: the card's, else the training's, else 0)
  --batches <k>   calibration batches (default 16)
  --batch <n>     images per batch (default 500)
  --seed <s>      seed of the image draw and the corruptions (default 0)
  --threads <n>   ONNX Runtime intra-op threads (default: every core)`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(
    argv,
    {
      out: { type: 'string' },
      source: { type: 'string' },
      'clean-share': { type: 'string' },
      generator: { type: 'boolean' },
      mixture: { type: 'string' },
      'bn-blend': { type: 'string' },
      batches: { type: 'string' },
      batch: { type: 'string' },
      seed: { type: 'string' },
      threads: { type: 'string' },
    },
    true,
    USAGE,
  );
  const modelDir = modelFolderArgument(positionals, USAGE);
  const batches = intOption('batches', values.batches);
  const batch = intOption('batch', values.batch);
  const seed = intOption('seed', values.seed);
  const threads = threadsOption(values.threads);
  const cleanShare = fractionOption('clean-share', values['clean-share']);
  const blend = fractionOption('bn-blend', values['bn-blend']);
  const mixture = fractionOption('mixture', values.mixture);
  const { card, out } = await recalibrateExport(modelDir, {
    ...(values.out !== undefined && { out: values.out }),
    ...(values.source !== undefined && { source: values.source as CalibrationSource }),
    ...(values.generator === true && { generator: true }),
    ...(cleanShare !== undefined && { cleanShare }),
    ...(mixture !== undefined && { mixture }),
    ...(blend !== undefined && { blend }),
    ...(batches !== undefined && { batches }),
    ...(batch !== undefined && { batch }),
    ...(seed !== undefined && { seed }),
    ...(threads !== undefined && { threads }),
    command: ['npm run calibrate-bn --', ...argv].join(' '),
  });
  const calibration = values.generator === true ? card.generation?.calibration : card.normalization.calibration;
  const did = values.generator === true ? 'wrote the generation file of' : 'recalibrated';
  console.error(`${did} ${card.name} on ${calibration?.images ?? 0} images → ${out}; now run: npm run evaluate -- ${out}`);
  return 0;
}

runCli('calibrate-bn', main);
