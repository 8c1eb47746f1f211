// SPDX-License-Identifier: MIT
/**
 * @file npm run train:classifier -- [--dataset mnist|fashion-mnist|folder --data-path DIR …] [--epochs 2 | --steps k]
 *   [--batch 128] [--lr 1e-3] [--seed 0] [--out models/<dataset>-classifier] [--debug]
 * Trains the evaluation classifier with our engine and saves classifier.onnx + classifier.json.
 */
import { join } from 'node:path';
import { DATASET_OPTIONS, DATASET_USAGE, datasetSpecFromFlags } from '../training/data/dataset-args.ts';
import { datasetSlug, ensureClassifier } from '../training/eval/classifier-store.ts';
import { intOption, numberOption } from '../training/eval/cli-args.ts';
import { parseFlags, runCli } from './cli.ts';

const USAGE = `usage: npm run train:classifier -- ${DATASET_USAGE} [--epochs 2 | --steps k] [--batch 128] [--lr 1e-3] [--seed 0] [--out dir] [--debug]`;

async function main(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, {
    ...DATASET_OPTIONS,
    epochs: { type: 'string' },
    steps: { type: 'string' },
    batch: { type: 'string' },
    lr: { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string' },
    help: { type: 'boolean' },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const spec = datasetSpecFromFlags(values) ?? { kind: 'mnist' };
  const out = values.out ?? join('models', `${datasetSlug(spec)}-classifier`);
  const steps = intOption('steps', values.steps);
  const batchSize = intOption('batch', values.batch);
  const lr = numberOption('lr', values.lr);
  const seed = intOption('seed', values.seed);
  const loaded = await ensureClassifier(out, spec, {
    retrain: true,
    epochs: intOption('epochs', values.epochs) ?? 2,
    ...(steps !== undefined && { steps }),
    ...(batchSize !== undefined && { batchSize }),
    ...(lr !== undefined && { lr }),
    ...(seed !== undefined && { seed }),
    log: (msg) => {
      console.error(msg);
    },
  });
  await loaded.runner.release();
  const { testAccuracy, steps: done, wallTimeSeconds } = loaded.card;
  console.log(`${out}: test accuracy ${(100 * testAccuracy).toFixed(2)} % after ${done} steps (${wallTimeSeconds.toFixed(1)} s)`);
  return 0;
}

runCli('train:classifier', main);
