// SPDX-License-Identifier: MIT
/**
 * @file `npm run train -- [flags]`: trains f inside ONNX Runtime (training/trainer), optionally
 * exports it to models/<name>. `--help` lists every flag. Exit codes: 0 done or stopped by Ctrl-C
 * (checkpoint written), 2 a user error (bad flag or value, missing data, unreadable checkpoint),
 * 1 any other failure (scripts/cli.ts).
 */
import { resolveConfig, resumeConfig } from '../training/config.ts';
import { runCli } from './cli.ts';
import { readCheckpoint } from '../training/trainer/checkpoint.ts';
import { parseTrainArgs, trainHelp } from '../training/trainer/cli-args.ts';
import { train } from '../training/trainer/trainer.ts';
import { exportModel } from '../training/trainer/export.ts';

async function main(argv: readonly string[]): Promise<number> {
  const args = parseTrainArgs(argv);
  if (args.help) {
    process.stdout.write(`${trainHelp()}\n`);
    return 0;
  }
  const saved = args.resume ? (await readCheckpoint(args.resume)).meta.config : null;
  const config = saved ? resumeConfig(saved, args.overrides) : resolveConfig(args.overrides);
  const command = ['npm run train --', ...argv].join(' ');
  const result = await train(config, { ...(args.resume ? { resume: args.resume } : {}), handleSigint: true, command });
  const done =
    `${result.interrupted ? 'stopped' : 'finished'} at step ${result.step}/${result.totalSteps} ` +
    `(${result.wallTimeSeconds.toFixed(1)} s); checkpoint ${result.checkpointDir}`;
  process.stderr.write(`${done}\n`);
  const exportDir = result.run.config.exportDir;
  if (exportDir && !result.interrupted) {
    const { config: c, imageShape, noiseStats, dataset } = result.run;
    await exportModel(exportDir, {
      config: c,
      imageShape,
      tensors: result.tensors,
      noiseStats,
      steps: result.step,
      epochs: Number((result.step / Math.floor(dataset.n / c.batch)).toFixed(3)),
      wallTimeSeconds: result.wallTimeSeconds,
      commands: result.commands,
      dataset: dataset.name,
    });
    process.stderr.write(`exported f to ${exportDir}\n`);
  }
  return 0;
}

runCli('train', main);
