// SPDX-License-Identifier: MIT
/** The prepared GPU check refuses to pass silently on a host where CUDA does not load. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cudaUnavailableReason } from '../../common/ort-options.ts';

void test(
  'check:gpu exits 1 with a clear message when the CUDA provider does not load',
  { skip: cudaUnavailableReason() === null && 'this host has CUDA: the check would run for real' },
  () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/gpu-check.ts', 'models/mnist'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /CUDA execution provider did not load/);
    assert.match(r.stdout, /model mnist/);
  },
);
