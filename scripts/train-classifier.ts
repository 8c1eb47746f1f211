// SPDX-License-Identifier: MIT
/**
 * @file npm run train:classifier -- [--dataset mnist] [--epochs 2 | --steps k] [--batch 128] [--lr 1e-3]
 *   [--seed 0] [--out models/<dataset>-classifier]
 * Trains the evaluation classifier with our engine and saves classifier.onnx + classifier.json.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { datasetSlug, ensureClassifier } from '../training/eval/classifier-store.ts';
import { intOption, numberOption, parseDatasetArg } from '../training/eval/cli-args.ts';

const { values } = parseArgs({
  options: {
    dataset: { type: 'string', default: 'mnist' },
    epochs: { type: 'string' },
    steps: { type: 'string' },
    batch: { type: 'string' },
    lr: { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string' },
  },
});

try {
  const spec = parseDatasetArg(values.dataset);
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
} catch (err) {
  console.error(`train-classifier: ${(err as Error).message}`);
  process.exit(1);
}
