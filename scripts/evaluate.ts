// SPDX-License-Identifier: MIT
/**
 * @file npm run evaluate -- models/<name> [--n 1000] [--seed 0] [--threads N] [--dataset mnist|fashion-mnist|folder --data-path DIR …]
 *   [--classifier-dir <dir>] [--classifier-steps <k>] [--no-card] [--debug]
 * Writes models/<name>/evaluation.{json,png,md} and evaluation-benchmark.png, stores the summary in
 * model.json and prints it. --threads: ONNX Runtime intra-op threads (default: every core).
 * The evaluation classifier (models/<dataset>-classifier) is trained first when missing.
 */
import { DATASET_OPTIONS, DATASET_USAGE, datasetSpecFromFlags } from '../training/data/dataset-args.ts';
import { evaluateModel } from '../training/eval/evaluate.ts';
import { intOption, modelFolderArgument, threadsOption } from '../training/eval/cli-args.ts';
import { parseFlags, runCli } from './cli.ts';

const USAGE = `usage: npm run evaluate -- models/<name> [--n 1000] [--seed 0] [--threads N] ${DATASET_USAGE} [--classifier-dir …] [--classifier-steps k] [--no-card] [--debug]`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(
    argv,
    {
      ...DATASET_OPTIONS,
      n: { type: 'string' },
      seed: { type: 'string' },
      threads: { type: 'string' },
      'classifier-dir': { type: 'string' },
      'classifier-steps': { type: 'string' },
      'no-card': { type: 'boolean', default: false },
    },
    true,
    USAGE,
  );
  const modelDir = modelFolderArgument(positionals, USAGE);
  const n = intOption('n', values.n);
  const seed = intOption('seed', values.seed);
  const threads = threadsOption(values.threads);
  const classifierSteps = intOption('classifier-steps', values['classifier-steps']);
  const dataset = datasetSpecFromFlags(values);
  const result = await evaluateModel(modelDir, {
    ...(n !== undefined && { n }),
    ...(seed !== undefined && { seed }),
    ...(threads !== undefined && { threads }),
    ...(dataset !== undefined && { dataset }),
    ...(values['classifier-dir'] !== undefined && { classifierDir: values['classifier-dir'] }),
    ...(classifierSteps !== undefined && { classifier: { steps: classifierSteps } }),
    updateCard: !values['no-card'],
    log: (msg) => {
      console.error(msg);
    },
  });
  console.log(JSON.stringify(result.summary, null, 2));
  console.error(
    `wrote ${[result.files.json, result.files.png, result.files.benchmarkPng, result.files.markdown].filter((f) => f !== null).join(', ')}`,
  );
  return 0;
}

runCli('evaluate', main);
