// SPDX-License-Identifier: MIT
// /generate's noise worker: bit-identical to sampleNoise on the main thread, the main thread while
// the worker boots or after it is gone, and errors (Fourier noise without statistics) rejected, not thrown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { loadModelCard } from '../../common/model-card.ts';
import { sampleNoise } from '../../common/noise.ts';
import { Rng } from '../../common/rng.ts';
import { NoiseSampler } from '../../server/noise-sampler.ts';
import { repoFile } from '../../server/paths.ts';

const SHAPE = [1, 28, 28] as const;

async function untilWorker(sampler: NoiseSampler): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (sampler.served.worker === 0) {
    assert.ok(Date.now() < deadline, 'the noise worker never answered');
    await sampler.sample('mnist', { kind: 'gaussian' }, SHAPE, 0, 1);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

void test('worker draws equal main-thread draws bit for bit; before it is ready and after close the main thread draws', async () => {
  const { noiseStats } = await loadModelCard(repoFile('models/mnist'));
  const sampler = new NoiseSampler({ mnist: noiseStats, plain: null });
  const first = await sampler.sample('mnist', { kind: 'fourier' }, SHAPE, 7, 2);
  assert.equal(sampler.served.mainThread, 1, 'the first draw does not wait for the worker to boot');
  await untilWorker(sampler);
  for (const [spec, seed, count] of [
    [{ kind: 'fourier' as const }, 7, 2],
    [{ kind: 'fourier' as const, hermitian: true }, 3, 3],
    [{ kind: 'gaussian' as const }, 11, 4],
  ] as const) {
    const before = sampler.served.worker;
    const z = await sampler.sample('mnist', spec, SHAPE, seed, count);
    assert.equal(sampler.served.worker, before + 1, 'drawn by the worker');
    assert.deepEqual(z, sampleNoise(spec, noiseStats, SHAPE, new Rng(seed), count));
  }
  assert.deepEqual(first, await sampler.sample('mnist', { kind: 'fourier' }, SHAPE, 7, 2));
  await assert.rejects(sampler.sample('plain', { kind: 'fourier' }, SHAPE, 1, 1), /Fourier statistics/);
  await sampler.close();
  const main = sampler.served.mainThread;
  assert.deepEqual(
    await sampler.sample('mnist', { kind: 'gaussian' }, SHAPE, 5, 1),
    sampleNoise({ kind: 'gaussian' }, null, SHAPE, new Rng(5), 1),
  );
  assert.equal(sampler.served.mainThread, main + 1, 'after close the main thread draws');
  await sampler.close();
});

void test('an idle sampler never keeps a process alive, and a draw in flight does', () => {
  // The child waits until the worker answers, then lets its event loop run dry: it must exit 0
  // (a referenced worker would hang it; an unreferenced one mid-draw would end it with exit 13).
  const script = `
    import { NoiseSampler } from ${JSON.stringify(repoFile('server/noise-sampler.ts'))};
    const s = new NoiseSampler({});
    while (s.served.worker === 0) {
      await s.sample('x', { kind: 'gaussian' }, [1, 4, 4], 1, 1);
      await new Promise((r) => setTimeout(r, 50));
    }
    console.log('drawn on the worker');`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, `exit ${r.status} signal ${r.signal}: ${r.stderr}`);
  assert.match(r.stdout, /drawn on the worker/);
});
