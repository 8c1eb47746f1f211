// SPDX-License-Identifier: MIT
/** The one provider plan and CUDA probe shared by training and the server. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  openWithFallback,
  baseSessionOptions,
  cudaUnavailableReason,
  planProvider,
  providerFailureReason,
  providerList,
  vulkanLoaderMissing,
} from '../../common/ort-options.ts';

void test('planProvider: cpu never tries CUDA, cuda fails loudly without a driver, auto falls back with the reason', () => {
  assert.deepEqual(planProvider('cpu', null), { first: 'cpu', fallbackReason: null });
  assert.deepEqual(planProvider('cpu', 'libcuda.so.1 not found'), { first: 'cpu', fallbackReason: null });
  assert.deepEqual(planProvider('auto', null), { first: 'cuda' });
  assert.deepEqual(planProvider('cuda', null), { first: 'cuda' });
  assert.deepEqual(planProvider('auto', 'no /dev/nvidia* device'), { first: 'cpu', fallbackReason: 'no /dev/nvidia* device' });
  assert.throws(() => planProvider('cuda', 'libcuda.so.1 not found'), /CUDA is unavailable: libcuda.so.1 not found/);
});

void test('providerList keeps CPU behind a GPU provider for ops it lacks', () => {
  assert.deepEqual(providerList('cuda', 3), [{ name: 'cuda', deviceId: 3 }, 'cpu']);
  assert.deepEqual(providerList('webgpu', 3), ['webgpu', 'cpu']);
  assert.deepEqual(providerList('cpu', 3), ['cpu']);
});

void test('planProvider: webgpu is tried whatever CUDA looks like, and auto never picks it', () => {
  assert.deepEqual(planProvider('webgpu', null), { first: 'webgpu' });
  assert.deepEqual(planProvider('webgpu', 'libcuda.so.1 not found'), { first: 'webgpu' });
  assert.deepEqual(planProvider('auto', 'libcuda.so.1 not found'), { first: 'cpu', fallbackReason: 'libcuda.so.1 not found' });
});

void test('providerFailureReason: one line, and for Dawn the sentence after its source-location prefix', () => {
  const dawn = new Error(
    '/onnxruntime_src/onnxruntime/core/providers/webgpu/webgpu_context.cc:136 onnxruntime::webgpu::WebGpuContext::Initialize(...) ' +
      'adapter_result.status == wgpu::RequestAdapterStatus::Success was false. Failed to get a WebGPU adapter: No supported adapters\nmore',
  );
  assert.equal(providerFailureReason('webgpu', dawn), 'WebGPU session failed: Failed to get a WebGPU adapter: No supported adapters');
  assert.equal(providerFailureReason('cuda', new Error('first\nsecond')), 'CUDA session failed: first');
  assert.equal(providerFailureReason('cuda', 'plain'), 'CUDA session failed: plain');
});

void test('vulkanLoaderMissing looks on LD_LIBRARY_PATH and the usual library folders', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ign-libvulkan-'));
  try {
    writeFileSync(join(dir, 'libvulkan.so.1'), '');
    assert.equal(vulkanLoaderMissing({ LD_LIBRARY_PATH: dir }), null);
    const reason = vulkanLoaderMissing({});
    assert.ok(reason === null || reason === 'libvulkan.so.1 not found', String(reason));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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

void test('openWithFallback: CPU as planned; on auto a failed GPU session falls back with its reason; an explicit GPU fails', async () => {
  const calls: unknown[] = [];
  const open = (fail: boolean) => (providers: unknown[]) => {
    calls.push(providers);
    if (fail && providers[0] !== 'cpu') return Promise.reject(new Error('Failed to get a WebGPU adapter: none\nat line 2'));
    return Promise.resolve('session');
  };
  assert.deepEqual(await openWithFallback('cpu', 0, open(true)), { session: 'session', provider: 'cpu', fallbackReason: null });
  assert.deepEqual(calls.splice(0), [['cpu']]);
  const cudaOk = await openWithFallback('auto', 1, open(false), { first: 'cuda' });
  assert.deepEqual(cudaOk, { session: 'session', provider: 'cuda', fallbackReason: null });
  assert.deepEqual(calls.splice(0), [[{ name: 'cuda', deviceId: 1 }, 'cpu']]);
  const fellBack = await openWithFallback('auto', 0, open(true), { first: 'cuda' });
  assert.equal(fellBack.provider, 'cpu');
  assert.match(fellBack.fallbackReason ?? '', /^CUDA session failed: /);
  assert.deepEqual(calls.splice(0), [[{ name: 'cuda', deviceId: 0 }, 'cpu'], ['cpu']]);
  await assert.rejects(openWithFallback('webgpu', 0, open(true)), /^Error: WebGPU session failed: Failed to get a WebGPU adapter: none$/);
  assert.deepEqual(calls.splice(0), [['webgpu', 'cpu']], 'an explicit GPU choice never retries on CPU');
  const planned = await openWithFallback('auto', 0, open(true), { first: 'cpu', fallbackReason: 'no driver' });
  assert.deepEqual(planned, { session: 'session', provider: 'cpu', fallbackReason: 'no driver' });
});
