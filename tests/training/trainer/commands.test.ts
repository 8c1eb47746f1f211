// SPDX-License-Identifier: MIT
/**
 * The model card records every command that produced the model: the first run, each --resume and
 * the export, in order (a resumed run used to overwrite the first command line).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from '../../../training/config.ts';
import { train } from '../../../training/trainer/trainer.ts';
import { readCheckpoint } from '../../../training/trainer/checkpoint.ts';
import { exportRun, quietProgress } from '../../support/tiny-run.ts';
import { loadModelCard } from '../../../common/model-card.ts';
import { rectangles } from '../ign/synthetic.ts';

const quiet = quietProgress;

void test('a resumed run keeps the first command and appends its own; the card lists both and the export', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ign-commands-'));
  try {
    const config = resolveConfig({
      model: { arch: 'tiny', norm: 'batch', width: 8 },
      batch: 8,
      steps: 4,
      sampleEvery: 0,
      checkpointEvery: 0,
      logEvery: 2,
      out: join(dir, 'run'),
    });
    const data = rectangles(16, 8);
    const first = await train(config, {
      dataset: data,
      maxSteps: 2,
      command: 'npm run train -- --steps 4 --out run',
      progressStream: quiet,
    });
    assert.deepEqual((await readCheckpoint(first.checkpointDir)).meta.commands, ['npm run train -- --steps 4 --out run']);
    const resumed = await train(config, {
      dataset: data,
      resume: first.checkpointDir,
      command: 'npm run train -- --resume run/ckpt',
      progressStream: quiet,
    });
    const expected = ['npm run train -- --steps 4 --out run', 'npm run train -- --resume run/ckpt'];
    assert.equal(resumed.step, 4);
    assert.deepEqual(resumed.commands, expected);
    assert.deepEqual((await readCheckpoint(resumed.checkpointDir)).meta.commands, expected);

    const modelDir = join(dir, 'model');
    await exportRun(modelDir, config, resumed, 1, [...resumed.commands, 'npm run export -- --checkpoint run/ckpt']);
    const { card } = await loadModelCard(modelDir);
    assert.deepEqual(card.training.commands, [...expected, 'npm run export -- --checkpoint run/ckpt']);
    assert.equal(
      (JSON.parse(await readFile(join(modelDir, 'model.json'), 'utf8')) as { training: Record<string, unknown> }).training.command,
      undefined,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

void test('the shipped card records the real runs: a chain of warm-started train runs, the last one with the recorded config', async () => {
  const { card } = await loadModelCard('models/mnist');
  const commands = card.training.commands;
  const config = card.training.config as {
    preset?: string;
    batch?: number;
    seed?: number;
    steps?: number;
    model?: { width?: number; latent?: number };
    recipe?: { initFrom?: string };
  };
  // Training runs first; after them only post-training steps on the exported folder (recalibration).
  const firstAfter = commands.findIndex((c) => !c.startsWith('npm run train '));
  const trainCommands = firstAfter === -1 ? commands : commands.slice(0, firstAfter);
  const after = firstAfter === -1 ? [] : commands.slice(firstAfter);
  assert.ok(trainCommands.length >= 1);
  for (const command of after) assert.match(command, /^npm run calibrate-bn -- models\/mnist( |$)/);
  const generatorCommands = after.filter((c) => c.includes(' --generator'));
  assert.equal(
    after.length > generatorCommands.length,
    card.normalization.calibration !== undefined,
    'a recalibration is recorded both ways',
  );
  assert.equal(generatorCommands.length > 0, card.generation !== undefined, 'so is the generation file');
  for (const command of trainCommands)
    assert.match(command, new RegExp(`^npm run train -- --preset ${config.preset} (--\\S+ )*--init-from \\S+ `));
  // Each cycle starts from the model the previous one exported.
  const flag = (command: string, name: string) => new RegExp(`--${name} (\\S+)`).exec(command)?.[1];
  for (let i = 1; i < trainCommands.length; i++)
    assert.equal(flag(trainCommands[i]!, 'init-from'), flag(trainCommands[i - 1]!, 'export'), `cycle ${i + 1}`);
  // The last training command's flags are the ones the recorded config holds.
  const last = trainCommands.at(-1)!;
  for (const [name, value] of [
    ['batch', config.batch],
    ['width', config.model?.width],
    ['latent', config.model?.latent],
    ['seed', config.seed],
    ['steps', card.training.steps],
    ['init-from', config.recipe?.initFrom],
  ] as const) {
    assert.equal(flag(last, name), String(value), `--${name}`);
  }
});
