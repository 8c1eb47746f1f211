// SPDX-License-Identifier: MIT
/** The one provider plan and CUDA probe shared by training and the server. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { baseSessionOptions, cudaUnavailableReason, planProvider, providerList } from '../../common/ort-options.ts';

void test('planProvider: cpu never tries CUDA, cuda fails loudly without a driver, auto falls back with the reason', () => {
  assert.deepEqual(planProvider('cpu', null), { first: 'cpu', fallbackReason: null });
  assert.deepEqual(planProvider('cpu', 'libcuda.so.1 not found'), { first: 'cpu', fallbackReason: null });
  assert.deepEqual(planProvider('auto', null), { first: 'cuda' });
  assert.deepEqual(planProvider('cuda', null), { first: 'cuda' });
  assert.deepEqual(planProvider('auto', 'no /dev/nvidia* device'), { first: 'cpu', fallbackReason: 'no /dev/nvidia* device' });
  assert.throws(() => planProvider('cuda', 'libcuda.so.1 not found'), /CUDA is unavailable: libcuda.so.1 not found/);
});

void test('providerList keeps CPU behind CUDA for ops the CUDA provider lacks', () => {
  assert.deepEqual(providerList('cuda', 3), [{ name: 'cuda', deviceId: 3 }, 'cpu']);
  assert.deepEqual(providerList('cpu', 3), ['cpu']);
});

void test('cudaUnavailableReason looks on LD_LIBRARY_PATH too (both sides read it now)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ign-libcuda-'));
  try {
    const without = cudaUnavailableReason({ LD_LIBRARY_PATH: dir });
    writeFileSync(join(dir, 'libcuda.so.1'), '');
    const withLib = cudaUnavailableReason({ LD_LIBRARY_PATH: dir });
    // With the library present, the only possible reason left is the device node.
    assert.ok(withLib === null || withLib === 'no /dev/nvidia* device', String(withLib));
    if (without !== null) assert.notEqual(withLib, 'libcuda.so.1 not found');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('baseSessionOptions: no spinning threads, one inter-op thread, the requested intra-op threads', () => {
  const o = baseSessionOptions(3);
  assert.equal(o.intraOpNumThreads, 3);
  assert.equal(o.interOpNumThreads, 1);
  assert.equal(o.extra.session.intra_op.allow_spinning, '0');
});
