// SPDX-License-Identifier: MIT
/**
 * Every CLI shares one error path (scripts/cli.ts): unknown flags exit 2 with a hint, user errors
 * print one line and exit 2, stack traces only with --debug, undecodable folder images are reported.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describeFailure } from '../../scripts/cli.ts';
import { ConfigError } from '../../training/config.ts';
import { DatasetError } from '../../training/data/errors.ts';
import { CheckpointError } from '../../training/trainer/checkpoint.ts';

const root = new URL('../../', import.meta.url).pathname;
const run = (script: string, args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', join(root, 'scripts', script), ...args], { cwd: root, encoding: 'utf8' });
const STACK_LINE = /^\s+at /m;

void test('describeFailure: user errors exit 2 on one line, other failures exit 1, stacks only with --debug', () => {
  for (const err of [
    new ConfigError('bad value'),
    new DatasetError('no folder'),
    new CheckpointError('no checkpoint'),
    Object.assign(new Error('ENOENT: x'), { code: 'ENOENT' }),
  ]) {
    const { text, code } = describeFailure('train', err, false);
    assert.equal(code, 2, err.name);
    assert.equal(text.split('\n').length, 1, text);
    assert.doesNotMatch(text, /error:/);
  }
  const bug = describeFailure('train', new TypeError('x is undefined'), false);
  assert.deepEqual(bug, { text: 'train: error: x is undefined', code: 1 });
  assert.match(describeFailure('train', new TypeError('x is undefined'), true).text, STACK_LINE);
});

/** Every CLI in scripts/ that goes through cli.ts. */
const CLIS = [
  'train.ts',
  'export.ts',
  'sample.ts',
  'project.ts',
  'evaluate.ts',
  'calibrate-bn.ts',
  'train-classifier.ts',
  'bench-train.ts',
  'bench-train-profile.ts',
  'bench-serve.ts',
];

void test('every CLI rejects an unknown flag with exit 2 and a hint, before doing any work', () => {
  for (const script of CLIS) {
    const r = run(script, ['--bogus-flag']);
    assert.equal(r.status, 2, `${script}: ${r.stderr}`);
    assert.match(r.stderr, /--bogus-flag/, script);
    assert.match(r.stderr, /see --help/, script);
    assert.doesNotMatch(r.stderr, STACK_LINE, script);
  }
});

void test('bench:serve rejects a bad --seconds, --rounds, --client or --batch-caps with exit 2 and one line, before measuring', () => {
  for (const [flag, value, message] of [
    ['--seconds', '0', /--seconds must be positive/],
    ['--rounds', '1.5', /--rounds must be a positive integer/],
    ['--client', 'curl', /--client must be wire or node-http/],
    ['--batch-caps', '8,x', /--batch-caps must be a comma-separated list/],
  ] as const) {
    const r = run('bench-serve.ts', [flag, value]);
    assert.equal(r.status, 2, `${flag} ${value}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stderr, STACK_LINE);
  }
});

void test('every CLI answers --help with its usage on stdout and exit 0, before doing any work', () => {
  for (const script of CLIS) {
    const r = run(script, ['--help']);
    assert.equal(r.status, 0, `${script}: ${r.stderr}`);
    assert.match(r.stdout, /usage: npm run /, script);
  }
});

void test('a missing data folder and an unreadable checkpoint are one line and exit 2; --debug adds the stack', () => {
  const missing = run('train.ts', ['--dataset', 'folder', '--data-path', '/nonexistent/ign-data']);
  assert.equal(missing.status, 2, missing.stderr);
  assert.equal(missing.stderr.trim(), 'train: image folder /nonexistent/ign-data does not exist');
  const debug = run('train.ts', ['--dataset', 'folder', '--data-path', '/nonexistent/ign-data', '--debug']);
  assert.equal(debug.status, 2);
  assert.match(debug.stderr, STACK_LINE);

  const ckpt = run('export.ts', ['--checkpoint', '/nonexistent/ckpt', '--out', join(tmpdir(), 'ign-never-written')]);
  assert.equal(ckpt.status, 2, ckpt.stderr);
  assert.match(ckpt.stderr, /^export: cannot read checkpoint \/nonexistent\/ckpt: /);
  assert.equal(ckpt.stderr.trim().split('\n').length, 1, ckpt.stderr);

  const card = run('sample.ts', ['--model', '/nonexistent/model']);
  assert.equal(card.status, 2, card.stderr);
  assert.doesNotMatch(card.stderr, STACK_LINE);

  const value = run('evaluate.ts', ['models/mnist', '--n', 'many']);
  assert.equal(value.status, 2, value.stderr);
  assert.equal(value.stderr.trim(), 'evaluate: --n must be a non-negative integer, got "many"');
});

void test('calibrate-bn: a missing model, an unknown source, zero batches and shares outside [0, 1] are one line and exit 2, nothing written', () => {
  const out = join(tmpdir(), 'ign-never-written-calibration');
  for (const [args, message] of [
    [['/nonexistent/model'], /^calibrate-bn: model directory \/nonexistent\/model does not exist$/],
    [
      ['models/mnist', '--out', out, '--source', 'data'],
      /^calibrate-bn: --source must be one of serving, clean, noise, samples, got "data"$/,
    ],
    [['models/mnist', '--out', out, '--batches', '0'], /^calibrate-bn: --batches must be a positive integer$/],
    [['models/mnist', '--out', out, '--bn-blend', '1.5'], /^calibrate-bn: --bn-blend must be a number in \[0, 1\], got "1.5"$/],
    [['models/mnist', '--out', out, '--clean-share', 'half'], /^calibrate-bn: --clean-share must be a number in \[0, 1\], got "half"$/],
    [
      ['models/mnist', '--out', out, '--generator', '--mixture', '1.5'],
      /^calibrate-bn: --mixture must be a number in \[0, 1\], got "1.5"$/,
    ],
    [
      ['models/mnist', '--out', out, '--mixture', '0.25'],
      /^calibrate-bn: --mixture applies to the noise calibration \(--generator\) and to --source samples only$/,
    ],
    [
      ['models/mnist', '--out', out, '--source', 'samples', '--clean-share', '0.5'],
      /^calibrate-bn: --clean-share applies to the serving calibration only$/,
    ],
  ] as const) {
    const r = run('calibrate-bn.ts', [...args]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr.trim(), message);
  }
  assert.equal(spawnSync('test', ['-e', out]).status, 1, 'no output folder was created');
});

void test('evaluate and train:classifier take datasets the way train does', () => {
  const old = run('evaluate.ts', ['models/mnist', '--dataset', 'folder:/data/x']);
  assert.equal(old.status, 2, old.stderr);
  assert.match(old.stderr, /write --dataset folder --data-path \/data\/x/);
  const noPath = run('train-classifier.ts', ['--dataset', 'folder']);
  assert.equal(noPath.status, 2, noPath.stderr);
  assert.match(noPath.stderr, /--dataset folder needs --data-path DIR/);
  const missing = run('evaluate.ts', ['models/mnist', '--dataset', 'folder', '--data-path', '/nonexistent/ign-data', '--no-card']);
  assert.equal(missing.status, 2, missing.stderr);
  assert.match(missing.stderr, /image folder \/nonexistent\/ign-data does not exist/);
});

void test('undecodable files of a data folder are reported with count and names, on stderr and in log.jsonl', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ign-cli-folder-'));
  try {
    const data = join(dir, 'data');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(data);
    for (let i = 0; i < 4; i++) {
      const pixels = Buffer.alloc(8 * 8, 40 * i);
      await sharp(pixels, { raw: { width: 8, height: 8, channels: 1 } })
        .png()
        .toFile(join(data, `ok-${i}.png`));
    }
    await writeFile(join(data, 'broken-a.png'), 'not a png');
    await writeFile(join(data, 'broken-b.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0x00, 0x01]));
    const out = join(dir, 'run');
    const r = run('train.ts', [
      '--dataset',
      'folder',
      '--data-path',
      data,
      '--size',
      '8',
      '--channels',
      '1',
      '--arch',
      'tiny',
      '--width',
      '4',
      '--noise',
      'gaussian',
      '--batch',
      '2',
      '--steps',
      '1',
      '--sample-every',
      '0',
      '--log-every',
      '1',
      '--out',
      out,
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /skipped 2 undecodable files: broken-a\.png \(.+\), broken-b\.jpg \(.+\)/);
    const records = (await readFile(join(out, 'log.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event?: string; count?: number; first?: { file: string }[] });
    const skipped = records.find((l) => l.event === 'skipped_files');
    assert.equal(skipped?.count, 2);
    assert.deepEqual(
      skipped.first?.map((f) => f.file),
      ['broken-a.png', 'broken-b.jpg'],
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
