// SPDX-License-Identifier: MIT
/**
 * `--norm-first`: a normalisation on the first convolution (mnist and celeba64 leave it out, as
 * DCGAN does), its config checks, and a warm start from an f without one, where that layer starts
 * fresh and every other weight is taken over.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { resolveConfig } from '../../../training/config.ts';
import type { ModelConfig } from '../../../training/config.ts';
import { architecture } from '../../../training/ign/model.ts';
import { buildForwardGraph } from '../../../training/ign/forward-graph.ts';
import { numel } from '../../../training/onnx/ir.ts';
import { parseTrainArgs } from '../../../training/trainer/cli-args.ts';
import { exportGraphBytes, MODEL_FILE } from '../../../training/trainer/export.ts';
import { loadInitialWeights } from '../../../training/trainer/init-from.ts';
import { Rng } from '../../../common/rng.ts';
import { withTmpDir } from '../../support/tmp-dir.ts';

const SHAPE = [1, 28, 28] as const;
const model = (normFirst?: boolean): ModelConfig => ({
  arch: 'mnist',
  norm: 'batch',
  groups: 2,
  latent: 6,
  width: 4,
  ...(normFirst !== undefined && { normFirst }),
});

const declsOf = (m: ModelConfig) =>
  buildForwardGraph({ arch: architecture(m, SHAPE), model: m, batch: 1, bnMode: 'eval', applications: 1 }).decls;

function randomWeights(m: ModelConfig, seed: number): Record<string, Float32Array> {
  const rng = new Rng(seed);
  const out: Record<string, Float32Array> = {};
  for (const d of declsOf(m)) {
    const v = new Float32Array(numel(d.shape));
    if (d.name.endsWith('running_var')) rng.fillUniform(v, 0.5, 2);
    else rng.fillNormal(v, 0, 0.3);
    out[d.name] = v;
  }
  return out;
}

void test('--norm-first normalises the first convolution of mnist and celeba64; off by default', () => {
  for (const arch of ['mnist', 'celeba64'] as const) {
    const shape = arch === 'mnist' ? SHAPE : ([3, 64, 64] as const);
    const on = architecture({ ...model(true), arch }, shape);
    const off = architecture({ ...model(), arch }, shape);
    assert.equal(on.layers[0]!.norm, true, arch);
    assert.equal(off.layers[0]!.norm, false, arch);
    assert.deepEqual(
      on.layers.slice(1).map((l) => l.norm),
      off.layers.slice(1).map((l) => l.norm),
      `${arch}: the other layers are unchanged`,
    );
  }
  const names = declsOf(model(true)).map((d) => d.name);
  for (const p of ['weight', 'bias', 'running_mean', 'running_var']) assert.ok(names.includes(`enc.0.norm.${p}`), p);
  assert.ok(!declsOf(model(false)).some((d) => d.name.startsWith('enc.0.norm.')));

  assert.equal(resolveConfig(parseTrainArgs(['--norm-first']).overrides).model.normFirst, true);
  assert.equal(resolveConfig(parseTrainArgs([]).overrides).model.normFirst, undefined);
  assert.throws(() => resolveConfig({ model: { norm: 'none', normFirst: true } }), /normFirst needs a normalisation \(batch or group\)/);
  assert.throws(() => resolveConfig({ model: { normFirst: 'yes' as unknown as boolean } }), /normFirst must be true or false, got "yes"/);
});

void test('--init-from an f without a first-layer normalisation: that layer starts fresh, the rest is taken over', async () => {
  await withTmpDir('ign-norm-first-', async (dir) => {
    const plain = model();
    const stored = randomWeights(plain, 3);
    const config = resolveConfig({ model: plain });
    await writeFile(join(dir, MODEL_FILE), exportGraphBytes(config, [...SHAPE], stored));
    const widen = { arch: architecture(model(true), SHAPE), groupNorm: false, seed: 1 };
    const { weights, widenedFrom, freshNorms } = await loadInitialWeights(dir, declsOf(model(true)), widen);
    assert.deepEqual(freshNorms, ['enc.0']);
    assert.equal(widenedFrom, null);
    for (const d of declsOf(model(true))) {
      if (d.name.startsWith('enc.0.norm.')) assert.equal(weights.has(d.name), false, `${d.name} keeps the run's initialisation`);
      else assert.deepEqual(weights.get(d.name), stored[d.name], d.name);
    }
    // The same f into a run of its own architecture: nothing is fresh.
    const same = await loadInitialWeights(dir, declsOf(plain), { ...widen, arch: architecture(plain, SHAPE) });
    assert.deepEqual(same.freshNorms, []);
    assert.equal(same.weights.size, declsOf(plain).length);
  });
});
