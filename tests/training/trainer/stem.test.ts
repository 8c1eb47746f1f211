// SPDX-License-Identifier: MIT
/**
 * `--stem c`: a residual full-resolution pre-filter x + conv3×3(lrelu(conv3×3(x))) before the first
 * strided convolution. Its config checks; that it starts as the identity (so a warm start keeps the
 * stored f exactly, in ONNX Runtime); that training grows it from there; and the warm start itself.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MAX_STEM, resolveConfig } from '../../../training/config.ts';
import type { ModelConfig } from '../../../training/config.ts';
import { architecture } from '../../../training/ign/model.ts';
import { buildForwardGraph } from '../../../training/ign/forward-graph.ts';
import { numel } from '../../../training/onnx/ir.ts';
import { initParams } from '../../../training/nn/params.ts';
import { parseTrainArgs } from '../../../training/trainer/cli-args.ts';
import { exportGraphBytes, MODEL_FILE } from '../../../training/trainer/export.ts';
import { ForwardRunner } from '../../../training/trainer/forward-runner.ts';
import { loadInitialWeights } from '../../../training/trainer/init-from.ts';
import { createRunState } from '../../../training/trainer/run-state.ts';
import { train } from '../../../training/trainer/trainer.ts';
import { Rng } from '../../../common/rng.ts';
import { withTmpDir } from '../../support/tmp-dir.ts';
import { quietProgress, tinyTrainConfig } from '../../support/tiny-run.ts';
import { rectangles } from '../ign/synthetic.ts';

const SHAPE = [1, 28, 28] as const;
const model = (stem?: number, width = 4): ModelConfig => ({
  arch: 'mnist',
  norm: 'batch',
  groups: 2,
  latent: 6,
  width,
  ...(stem !== undefined && { stem }),
});

const declsOf = (m: ModelConfig) =>
  buildForwardGraph({ arch: architecture(m, SHAPE), model: m, batch: 1, bnMode: 'eval', applications: 1 }).decls;

/** Random θ and BN statistics for `m`; the stem's second convolution as the run initialises it (zero) unless `grown`. */
function randomWeights(m: ModelConfig, seed: number, grown = false): Record<string, Float32Array> {
  const rng = new Rng(seed);
  const out: Record<string, Float32Array> = {};
  for (const d of declsOf(m)) {
    const v = new Float32Array(numel(d.shape));
    if (d.name.endsWith('running_var')) rng.fillUniform(v, 0.5, 2);
    else if (!d.name.startsWith('stem.1.') || grown) rng.fillNormal(v, 0, 0.3);
    out[d.name] = v;
  }
  return out;
}

async function forward(m: ModelConfig, weights: Readonly<Record<string, Float32Array>>, x: Float32Array): Promise<Float32Array> {
  const runner = await ForwardRunner.create({ arch: architecture(m, SHAPE), model: m, batch: 3, bnMode: 'eval', applications: 1 });
  try {
    return (await runner.run(x, weights))[0]!;
  } finally {
    await runner.release();
  }
}

void test('--stem declares two 3×3 convolutions at full resolution, the second zero-initialised; off by default; config checks', () => {
  const shapes = Object.fromEntries(declsOf(model(8)).map((d) => [d.name, d.shape]));
  assert.deepEqual(shapes['stem.0.weight'], [8, 1, 3, 3]);
  assert.deepEqual(shapes['stem.0.bias'], [8]);
  assert.deepEqual(shapes['stem.1.weight'], [1, 8, 3, 3]);
  assert.deepEqual(shapes['stem.1.bias'], [1]);
  const init = initParams(declsOf(model(8)), new Rng(1));
  assert.ok(init.get('stem.1.weight')!.every((v) => v === 0));
  assert.ok(init.get('stem.0.weight')!.some((v) => v !== 0));
  assert.ok(!declsOf(model()).some((d) => d.name.startsWith('stem.')));
  assert.equal(architecture(model(0), SHAPE).stem, 0);
  assert.equal(architecture({ ...model(5), arch: 'celeba64' }, [3, 64, 64]).stem, 5);

  assert.equal(resolveConfig(parseTrainArgs(['--stem', '16']).overrides).model.stem, 16);
  assert.equal(resolveConfig(parseTrainArgs([]).overrides).model.stem, undefined);
  assert.throws(() => resolveConfig({ model: { stem: 2.5 } }), /stem must be an integer in \[0, 256\], got 2\.5/);
  assert.throws(() => resolveConfig({ model: { stem: MAX_STEM + 1 } }), /stem must be an integer/);
  assert.throws(() => resolveConfig({ model: { arch: 'tiny', stem: 4 } }), /stem needs the mnist or celeba64 architecture/);
});

void test('a stem whose second convolution is zero is the identity: f with it equals f without it, in ONNX Runtime', async () => {
  const body = randomWeights(model(), 3);
  const stemmed = { ...randomWeights(model(6), 4), ...body };
  const x = new Rng(5).fillUniform(new Float32Array(3 * 784), -1, 1);
  const plain = await forward(model(), body, x);
  assert.ok(
    plain.some((v) => Math.abs(v) > 0.05),
    'the test f must not be trivial',
  );
  assert.deepEqual(await forward(model(6), stemmed, x), plain);
  // A grown stem changes f: the check above could not pass by ignoring the stem.
  const grown = { ...randomWeights(model(6), 4, true), ...body };
  const moved = await forward(model(6), grown, x);
  assert.ok(moved.some((v, i) => Math.abs(v - plain[i]!) > 1e-3));
});

void test('training grows the stem from zero: step 1 moves only its second convolution, step 2 its first too', async () => {
  await withTmpDir('ign-stem-train-', async (dir) => {
    const data = rectangles(16, 28);
    const config = (steps: number) => tinyTrainConfig(join(dir, `run-${steps}`), { steps, batch: 4, model: model(4), seed: 2 });
    const fresh = await createRunState(config(1), { dataset: data });
    const start = fresh.runner.state();
    await fresh.runner.release();
    const run = async (steps: number) => (await train(config(steps), { dataset: data, progressStream: quietProgress })).tensors;
    const one = await run(1);
    const two = await run(2);
    assert.ok(start['stem.1.weight']!.every((v) => v === 0));
    assert.ok(
      one['stem.1.weight']!.some((v) => v !== 0),
      'stem.1 gets a gradient at once',
    );
    // With stem.1 = 0 no gradient reaches stem.0, and Adam's step on a zero gradient is zero.
    assert.deepEqual(one['stem.0.weight'], start['stem.0.weight']);
    assert.deepEqual(one['stem.0.bias'], start['stem.0.bias']);
    assert.ok(
      two['stem.0.weight']!.some((v, i) => v !== one['stem.0.weight']![i]),
      'stem.0 moves once stem.1 is not zero',
    );
  });
});

void test('--init-from an f without a stem: the stem starts as the identity, every other weight is taken over', async () => {
  await withTmpDir('ign-stem-', async (dir) => {
    const plain = model();
    const stored = randomWeights(plain, 3);
    await writeFile(join(dir, MODEL_FILE), exportGraphBytes(resolveConfig({ model: plain }), [...SHAPE], stored));
    const widen = { arch: architecture(model(6), SHAPE), groupNorm: false, seed: 1 };
    const warm = await loadInitialWeights(dir, declsOf(model(6)), widen);
    assert.equal(warm.freshStem, true);
    assert.deepEqual(warm.freshNorms, []);
    for (const d of declsOf(model(6))) {
      if (d.name.startsWith('stem.')) assert.equal(warm.weights.has(d.name), false, `${d.name} keeps the run's initialisation`);
      else assert.deepEqual(warm.weights.get(d.name), stored[d.name], d.name);
    }
    // An f with a stem, widened 4 → 7: the stem (on image channels) carries over unchanged.
    const grown = randomWeights(model(6), 8, true);
    await writeFile(join(dir, MODEL_FILE), exportGraphBytes(resolveConfig({ model: model(6) }), [...SHAPE], grown));
    const wide = await loadInitialWeights(dir, declsOf(model(6, 7)), { ...widen, arch: architecture(model(6, 7), SHAPE) });
    assert.equal(wide.freshStem, false);
    assert.deepEqual(wide.widenedFrom, [4, 8, 6, 8, 4, 1]);
    for (const p of ['stem.0.weight', 'stem.0.bias', 'stem.1.weight', 'stem.1.bias']) assert.deepEqual(wide.weights.get(p), grown[p], p);
  });
});
