// SPDX-License-Identifier: MIT
/**
 * The CLIs end to end as child processes: --help lists every flag; bad values exit 2 before any
 * step; Ctrl-C (SIGINT) mid-run writes a checkpoint and exits 0; --resume continues from it;
 * export writes a valid model folder; sample and project write PNGs from it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { TRAIN_FLAGS } from '../../training/trainer/cli-args.ts';
import { readCheckpoint } from '../../training/trainer/checkpoint.ts';
import { loadModelCard } from '../../common/model-card.ts';

const root = new URL('../../', import.meta.url).pathname;
const run = (script: string, args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', join(root, 'scripts', script), ...args], { cwd: root, encoding: 'utf8' });
const tiny = [
  '--dataset',
  'mnist',
  '--limit',
  '64',
  '--arch',
  'tiny',
  '--width',
  '4',
  '--batch',
  '16',
  '--sample-every',
  '0',
  '--log-every',
  '1',
];

void test('train --help documents every flag', () => {
  const r = run('train.ts', ['--help']);
  assert.equal(r.status, 0);
  for (const f of TRAIN_FLAGS) assert.match(r.stdout, new RegExp(`--${f.name}\\b`), `--${f.name} is documented`);
});

void test('train rejects bad flags and values with exit code 2', () => {
  assert.equal(run('train.ts', ['--bogus']).status, 2);
  const r = run('train.ts', ['--preset', 'paper', '--batch', 'x']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--batch expects a number/);
  const c = run('train.ts', ['--lr=-1', '--clamp-normalizer', 'nope']);
  assert.equal(c.status, 2);
  assert.match(c.stderr, /lr must be > 0/);
  assert.match(c.stderr, /clampNormalizer must be one of/);
});

void test('SIGINT writes a checkpoint; resume, export, sample and project work from it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ign-cli-'));
  try {
    const out = join(dir, 'run');
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'scripts/train.ts'), ...tiny, '--steps', '100000', '--out', out], {
      cwd: root,
    });
    let stderr = '';
    const exited = new Promise<number | null>((resolve) => {
      child.on('exit', (code) => {
        resolve(code);
      });
    });
    await new Promise<void>((resolve) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (/step 3\//.test(stderr)) resolve();
      });
    });
    child.kill('SIGINT');
    assert.equal(await exited, 0, stderr);
    const ckpt = await readCheckpoint(join(out, 'ckpt'));
    assert.ok(ckpt.meta.step >= 3, `checkpoint at step ${ckpt.meta.step}`);

    const resumed = run('train.ts', [
      '--resume',
      join(out, 'ckpt'),
      '--steps',
      String(ckpt.meta.step + 2),
      '--out',
      out,
      '--log-every',
      '1',
    ]);
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.equal((await readCheckpoint(join(out, 'ckpt'))).meta.step, ckpt.meta.step + 2);

    const modelDir = join(dir, 'models', 'cli-tiny');
    const exported = run('export.ts', ['--checkpoint', join(out, 'ckpt'), '--out', modelDir]);
    assert.equal(exported.status, 0, exported.stderr);
    const { card } = await loadModelCard(modelDir);
    assert.equal(card.training.steps, ckpt.meta.step + 2);
    // The card lists the interrupted run, its resume and the export, in that order.
    assert.equal(card.training.commands.length, 3, JSON.stringify(card.training.commands));
    assert.match(card.training.commands[0]!, /^npm run train -- .*--steps 100000/);
    assert.match(card.training.commands[1]!, /^npm run train -- --resume /);
    assert.match(card.training.commands[2]!, /^npm run export -- --checkpoint /);

    const samplePng = join(dir, 'samples.png');
    assert.equal(run('sample.ts', ['--model', modelDir, '--count', '4', '--k', '2', '--out', samplePng]).status, 0);
    const meta = await sharp(samplePng).metadata();
    assert.equal(meta.height, 3 * 30 + 2, 'rows z, f(z), f²(z) of 28-pixel tiles with 2-pixel gutters');

    const projPng = join(dir, 'projection.png');
    const projected = run('project.ts', ['--model', modelDir, '--image', samplePng, '--corrupt', 'noise', '--k', '2', '--out', projPng]);
    assert.equal(projected.status, 0, projected.stderr);
    assert.ok((await stat(projPng)).size > 0);
    assert.equal((await sharp(projPng).metadata()).width, 4 * 30 + 2, 'input, corrupted, f, f²');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
