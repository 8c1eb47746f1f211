// SPDX-License-Identifier: MIT
/**
 * @file npm run evaluate -- models/<name> [--n 1000] [--seed 0] [--threads N] [--dataset mnist|fashion-mnist|folder:<path>]
 *   [--classifier-dir <dir>] [--classifier-steps <k>] [--no-card]
 * Writes models/<name>/evaluation.{json,png,md} and evaluation-benchmark.png, stores the summary in
 * model.json and prints it. --threads: ONNX Runtime intra-op threads (default: every core).
 * The evaluation classifier (models/<dataset>-classifier) is trained first when missing.
 */
import { parseArgs } from 'node:util';
import { evaluateModel } from '../training/eval/evaluate.ts';
import { intOption, parseDatasetArg } from '../training/eval/cli-args.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    n: { type: 'string' },
    seed: { type: 'string' },
    threads: { type: 'string' },
    dataset: { type: 'string' },
    'classifier-dir': { type: 'string' },
    'classifier-steps': { type: 'string' },
    'no-card': { type: 'boolean', default: false },
  },
});

const modelDir = positionals[0];
if (positionals.length !== 1 || modelDir === undefined) {
  console.error('usage: npm run evaluate -- models/<name> [--n 1000] [--seed 0] [--threads N] [--dataset …] [--classifier-dir …] [--classifier-steps k] [--no-card]');
  process.exit(2);
}

try {
  const n = intOption('n', values.n);
  const seed = intOption('seed', values.seed);
  const threads = intOption('threads', values.threads);
  if (threads === 0) throw new Error('--threads must be at least 1');
  const classifierSteps = intOption('classifier-steps', values['classifier-steps']);
  const result = await evaluateModel(modelDir, {
    ...(n !== undefined && { n }),
    ...(seed !== undefined && { seed }),
    ...(threads !== undefined && { threads }),
    ...(values.dataset !== undefined && { dataset: parseDatasetArg(values.dataset) }),
    ...(values['classifier-dir'] !== undefined && { classifierDir: values['classifier-dir'] }),
    ...(classifierSteps !== undefined && { classifier: { steps: classifierSteps } }),
    updateCard: !values['no-card'],
    log: (msg) => {
      console.error(msg);
    },
  });
  console.log(JSON.stringify(result.summary, null, 2));
  console.error(`wrote ${[result.files.json, result.files.png, result.files.benchmarkPng, result.files.markdown].filter((f) => f !== null).join(', ')}`);
} catch (err) {
  console.error(`evaluate: ${(err as Error).message}`);
  process.exit(1);
}
