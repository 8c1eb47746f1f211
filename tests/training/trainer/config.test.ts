// SPDX-License-Identifier: MIT
/** Config presets, validation at start, CLI parsing and resume rules; progress lines; grid pixels. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, PRESETS, resolveConfig, resumeConfig, totalSteps } from '../../../training/config.ts';
import { parseTrainArgs } from '../../../training/trainer/cli-args.ts';
import { Progress, formatDuration } from '../../../training/trainer/progress.ts';
import { gridPixels } from '../../../training/trainer/image-grid.ts';

void test('presets carry the paper and Algorithm 1 objectives', () => {
  const paper = resolveConfig({});
  assert.deepEqual(paper.loss, PRESETS.paper);
  assert.deepEqual(paper.loss.weights, { rec: 20, idem: 20, tight: 2.5 });
  assert.equal(paper.loss.distance, 'l1');
  assert.deepEqual(paper.optim, { lr: 1e-4, beta1: 0.5, beta2: 0.999, eps: 1e-8 });
  const alg1 = resolveConfig({ preset: 'algorithm1', loss: { weights: { tight: 0.5 } } });
  assert.deepEqual(alg1.loss.weights, { rec: 1, idem: 1, tight: 0.5 }, 'one weight overridden, the others kept');
  assert.equal(alg1.loss.clamp, false);
  assert.equal(resolveConfig({ data: { kind: 'folder', path: '/x' } }).noise, 'fourier', 'celeba64 defaults to Fourier noise');
});

void test('bad values fail at start with every problem listed', () => {
  assert.throws(
    () => resolveConfig({ batch: 0, optim: { lr: -1, beta1: 1 }, loss: { weights: { tight: -2 } }, seed: 1.5 }),
    (err: unknown) => err instanceof ConfigError && ['batch', 'lr', 'beta1', 'tight', 'seed'].every((k) => err.message.includes(k)),
  );
  assert.throws(() => resolveConfig({ steps: 10, epochs: 2 }), /not both/);
  assert.throws(() => resolveConfig({ model: { norm: 'group', groups: 48 } }), /groups 48/);
  assert.throws(() => resolveConfig({ model: { bnBlend: 1.2 } }), /bnBlend must be a number in \[0, 1\], got 1.2/);
  assert.throws(() => resolveConfig({ model: { norm: 'group', bnBlend: 0.3 } }), /bnBlend needs batch norm/);
  assert.equal(totalSteps(resolveConfig({ epochs: 2.5, batch: 10 }), 105), 25);
  // WebGPU serves f but cannot run the training step (no BatchNormalization training mode there).
  assert.throws(() => resolveConfig({ ep: 'webgpu' }), /ep webgpu serves inference only .*train with auto \| cuda \| cpu/);
  assert.throws(() => resolveConfig({ ep: 'tpu' as 'cpu' }), /ep must be one of auto \| cuda \| cpu/);
});

void test('CLI flags map onto config overrides', () => {
  const { overrides, resume } = parseTrainArgs([
    '--preset',
    'algorithm1',
    '--steps',
    '30',
    '--batch',
    '8',
    '--w-tight',
    '0.2',
    '--no-clamp',
    '--limit',
    '100',
    '--latent',
    '128',
    '--lr',
    '2e-4',
    '--bn-blend',
    '0.3',
  ]);
  assert.equal(resume, null);
  const c = resolveConfig(overrides);
  assert.equal(c.steps, 30);
  assert.equal(c.loss.weights.tight, 0.2);
  assert.equal(c.loss.clamp, false);
  assert.deepEqual(c.data, { kind: 'mnist', limit: 100 });
  assert.equal(c.model.latent, 128);
  assert.equal(c.optim.lr, 2e-4);
  assert.equal(c.model.bnBlend, 0.3);
  assert.equal(resolveConfig({}).model.bnBlend, undefined, 'plain BatchNorm unless asked');
  assert.throws(() => parseTrainArgs(['--steps', 'many']), /--steps expects a number/);
});

void test('resuming keeps the model and loss and only changes run-control settings', () => {
  const saved = resolveConfig({ steps: 100, model: { latent: 64 } });
  const resumed = resumeConfig(saved, parseTrainArgs(['--steps', '200', '--out', 'runs/y']).overrides);
  assert.equal(resumed.steps, 200);
  assert.equal(resumed.out, 'runs/y');
  assert.equal(resumed.model.latent, 64);
  assert.equal(resumeConfig(saved, {}).steps, 100, 'no --steps: the saved total');
  assert.throws(() => resumeConfig(saved, parseTrainArgs(['--latent', '32']).overrides), /cannot change model/);
});

void test('progress prints plain lines every k steps when not a TTY', () => {
  const lines: string[] = [];
  let now = 0;
  const p = new Progress({
    total: 10,
    startStep: 0,
    every: 5,
    stream: { write: (s: string) => lines.push(s), isTTY: false },
    now: () => now,
  });
  for (let step = 1; step <= 10; step++) {
    now += 500;
    p.update(step, 0, { 'loss.total': 1.5, 'metric.idem_residual': 0.25 });
  }
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, /step 5\/10 ep 0 2\.00 it\/s ETA 0:03 total=1\.500 idem_residual=0\.2500/);
  assert.equal(formatDuration(3725), '1:02:05');
});

void test('grid pixels map [-1, 1] to 0–255, clip outliers and tile rows', () => {
  const row = { images: Float32Array.of(-1, 1, 0, 3), count: 2 };
  const { data, width, height } = gridPixels([row], [1, 1, 2]);
  assert.equal(width, 2 * (2 + 2) + 2);
  assert.equal(height, 1 + 2 + 2);
  const px = (x: number, y: number): number => data[y * width + x]!;
  assert.deepEqual([px(2, 2), px(3, 2), px(6, 2), px(7, 2)], [0, 255, 128, 255]);
  assert.equal(px(0, 0), 255, 'gutter is white');
});
