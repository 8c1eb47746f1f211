// SPDX-License-Identifier: MIT
// server/main.ts as a child process on port 0: startup faults, EP choice, timeouts, SIGTERM drain.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { vulkanLoaderMissing } from '../../common/ort-options.ts';
import { spawnServer } from '../support/server-child.ts';
import { writeTinyModelDir } from '../support/tiny-model.ts';
import { tinyModelDir } from './helpers.ts';

let model: { dir: string; cleanup: () => Promise<void> };
before(async () => {
  model = await tinyModelDir({ channels: 3, height: 64, width: 64 });
});
after(async () => {
  await model.cleanup();
});

async function expectStartupFailure(env: Record<string, string>, stderrPattern: RegExp): Promise<void> {
  const child = spawnServer(env);
  const code = await child.exited;
  assert.notEqual(code, 0);
  assert.match(child.stderr(), stderrPattern);
  assert.doesNotMatch(child.stdout(), /"msg":"listening"/, 'the port was never bound');
}

void test('startup faults: missing, empty or garbage model, empty or (strict) bad repository → exit ≠ 0 with the reason, port never bound', async () => {
  const empty = await tinyModelDir({ channels: 1, height: 4, width: 4 });
  const garbage = await tinyModelDir({ channels: 1, height: 4, width: 4 });
  const repository = await tinyModelDir({ channels: 1, height: 4, width: 4 }); // its own card is ignored: only subfolders count
  try {
    await writeFile(join(empty.dir, 'model.onnx'), Buffer.alloc(0));
    await writeFile(join(garbage.dir, 'model.onnx'), Buffer.from('this is not a protobuf'.repeat(20)));
    await writeTinyModelDir(join(repository.dir, 'good'), { channels: 1, height: 4, width: 4 }, 'good');
    await writeTinyModelDir(join(repository.dir, 'bad'), { channels: 1, height: 4, width: 4 }, 'bad');
    await writeFile(join(repository.dir, 'bad', 'model.onnx'), Buffer.from('this is not a protobuf'.repeat(20)));
    await Promise.all([
      expectStartupFailure({ MODEL_DIR: join(model.dir, 'missing') }, /missing.*does not exist/),
      expectStartupFailure({ MODEL_DIR: empty.dir }, new RegExp(`${empty.dir}/model.onnx`)),
      expectStartupFailure({ MODEL_DIR: garbage.dir }, new RegExp(`${garbage.dir}/model.onnx`)),
      // A repository with no model folder, or (strict) one bad model among good ones.
      expectStartupFailure({ MODEL_REPOSITORY: model.dir }, /no model could be served: no folder with a model\.json/),
      expectStartupFailure({ MODEL_REPOSITORY: repository.dir, STRICT_MODELS: '1' }, /cannot start inference: .*bad\/model\.onnx/),
    ]);
  } finally {
    await empty.cleanup();
    await garbage.cleanup();
    await repository.cleanup();
  }
});

void test('bad configuration and IGN_EP=cuda / REQUIRE_GPU=1 on a CPU host fail fast', async () => {
  await Promise.all([
    expectStartupFailure({ MODEL_DIR: model.dir, MAX_BATCH_SIZE: 'eight' }, /MAX_BATCH_SIZE/),
    expectStartupFailure({ MODEL_DIR: model.dir, IGN_EP: 'cuda' }, /CUDA is unavailable/),
    expectStartupFailure({ MODEL_DIR: model.dir, REQUIRE_GPU: '1' }, /CUDA is unavailable/),
  ]);
});

void test(
  'IGN_EP=webgpu (alone or with REQUIRE_GPU=1) on a host without a Vulkan adapter fails fast with the reason',
  { skip: vulkanLoaderMissing() === null && 'this host has a Vulkan loader: WebGPU may load' },
  async () => {
    const reason = /WebGPU session failed: Failed to get a WebGPU adapter/;
    await Promise.all([
      expectStartupFailure({ MODEL_DIR: model.dir, IGN_EP: 'webgpu' }, reason),
      expectStartupFailure({ MODEL_DIR: model.dir, IGN_EP: 'webgpu', REQUIRE_GPU: '1' }, reason),
    ]);
  },
);

void test('IGN_EP=auto falls back to CPU, counts it once, and serves; SIGTERM drains in-flight work', async () => {
  const child = spawnServer({ MODEL_DIR: model.dir, IGN_EP: 'auto', DRAIN_MS: '5000', MAX_STEPS: '1000', HEADERS_TIMEOUT_MS: '1000' });
  try {
    const port = await child.listening(15_000);
    const base = `http://127.0.0.1:${port}`;
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /^ign_ep_fallback_total\{model="tiny"\} 1$/m);
    assert.match(metrics, /ign_model_info\{[^}]*ep="cpu"/);
    assert.match(metrics, /^nodejs_eventloop_lag_seconds/m, 'main.ts adds the default metrics');
    assert.match(child.stdout(), /"reason":"libcuda.so.1 not found"|"reason":"no \/dev\/nvidia\* device"/);

    // Slow headers: Node answers 408 once HEADERS_TIMEOUT_MS passes (main.ts checks every second)
    // and closes the connection; how soon is not asserted (a loaded machine delays it).

    const slow = await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
      });
      let got = '';
      socket.on('data', (c: Buffer) => {
        got += c.toString();
      });
      socket.on('close', () => {
        resolve(got);
      });
    });
    assert.match(slow, /^HTTP\/1\.1 408/);

    const inflight = fetch(`${base}/generate`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ count: 16, steps: 400, seed: 1 }),
    });
    await new Promise((r) => setTimeout(r, 150));
    child.proc.kill('SIGTERM');
    const res = await inflight;
    assert.equal(res.status, 200, 'in-flight work finishes during the drain');
    assert.equal((await res.arrayBuffer()).byteLength > 0, true);
    assert.equal(await child.exited, 0);
    await assert.rejects(fetch(`${base}/healthz`), 'new connections are refused after the drain');
  } finally {
    child.proc.kill('SIGKILL');
  }
});
