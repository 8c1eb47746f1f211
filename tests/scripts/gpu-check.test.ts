// SPDX-License-Identifier: MIT
/** The prepared GPU check refuses to pass silently on a host where the GPU provider does not load. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cudaUnavailableReason, vulkanLoaderMissing } from '../../common/ort-options.ts';

const check = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'scripts/gpu-check.ts', ...args], { encoding: 'utf8', timeout: 60_000 });

void test(
  'check:gpu exits 1 with a clear message when the CUDA provider does not load',
  { skip: cudaUnavailableReason() === null && 'this host has CUDA: the check would run for real' },
  () => {
    const r = check('models/mnist');
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /CUDA execution provider did not load/);
    assert.match(r.stdout, /model mnist/);
  },
);

void test(
  "check:gpu --ep webgpu exits 1 with Dawn's reason when no Vulkan adapter exists",
  { skip: vulkanLoaderMissing() === null && 'this host has a Vulkan loader: the check may run for real' },
  () => {
    const r = check('models/mnist', '--ep', 'webgpu');
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /WebGPU execution provider did not load: WebGPU session failed: Failed to get a WebGPU adapter/);
    assert.match(r.stdout, /Vulkan loader: libvulkan\.so\.1 not found/);
  },
);

void test('check:gpu refuses an unknown provider with its usage (exit 2)', () => {
  const r = check('--ep', 'tpu');
  assert.equal(r.status, 2, r.stdout + r.stderr);
  assert.match(r.stderr, /usage: npm run check:gpu -- \[models\/<name>\] \[--ep cuda\|webgpu\]/);
});
