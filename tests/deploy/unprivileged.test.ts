// SPDX-License-Identifier: MIT
// The container's runtime conditions without a Docker engine (docs/serving.md, "Container"): the real
// server (`npm start`'s entry) as uid/gid 65534 with no groups, a root-owned read-only model
// directory and an unwritable working directory. It must serve, answer the probe routes the
// manifests use, and drain to exit 0 on SIGTERM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { spawnServer } from '../support/server-child.ts';
import { writeTinyModelDir } from '../support/tiny-model.ts';
import { skipUnlessAvailable } from '../support/required-tool.ts';

const root = new URL('../../', import.meta.url).pathname;
const NOBODY = 65534;
const DROP = [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups'];

function missingPrerequisite(): string | null {
  if (process.platform !== 'linux') return 'the test needs Linux';
  if (process.getuid?.() !== 0) return 'the test needs root to drop to uid 65534';
  if (spawnSync('setpriv', ['--version']).status !== 0) return 'setpriv (util-linux) is not installed';
  return null;
}

interface Probe {
  httpGet: { path: string };
}
interface ProbedContainer {
  startupProbe: Probe;
  livenessProbe: Probe;
  readinessProbe: Probe;
}

/** Probe paths the Kubernetes and KServe manifests point at. */
function manifestProbePaths(): string[] {
  const load = (file: string): unknown => parse(readFileSync(join(root, 'deploy', file), 'utf8'));
  const deployment = load('deployment.yaml') as { spec: { template: { spec: { containers: ProbedContainer[] } } } };
  const isvc = load('kserve-inferenceservice.yaml') as { spec: { predictor: { containers: ProbedContainer[] } } };
  const containers = [...deployment.spec.template.spec.containers, ...isvc.spec.predictor.containers];
  const paths = containers.flatMap((c) => [c.startupProbe, c.livenessProbe, c.readinessProbe].map((p) => p.httpGet.path));
  return [...new Set(paths)];
}

void test(
  'serves as uid 65534 from a read-only model dir and an unwritable cwd',
  { skip: skipUnlessAvailable(missingPrerequisite()), timeout: 60_000 },
  async () => {
    const base = mkdtempSync(join(tmpdir(), 'ign-unpriv-'));
    const modelDir = join(base, 'models');
    // The repository root is root-owned 0755: readable, not writable, for uid 65534.
    const cwd = root;
    await writeTinyModelDir(modelDir, { channels: 1, height: 8, width: 8 });
    for (const f of ['model.onnx', 'model.json']) chmodSync(join(modelDir, f), 0o444);
    chmodSync(modelDir, 0o555);
    chmodSync(base, 0o755);
    const asNobody = (...cmd: string[]): number | null => spawnSync('setpriv', [...DROP, ...cmd]).status;
    assert.notEqual(asNobody('test', '-w', cwd), 0, 'cwd is not writable by uid 65534');
    assert.notEqual(asNobody('touch', join(modelDir, 'probe')), 0, 'model dir is read-only for uid 65534');
    assert.equal(asNobody('test', '-r', join(modelDir, 'model.onnx')), 0, 'model is readable by uid 65534');
    const child = spawnServer(
      { HOME: modelDir, NODE_ENV: 'production', MODEL_DIR: modelDir, DRAIN_MS: '5000' },
      { prefix: ['setpriv', ...DROP], cwd },
    );
    try {
      const url = `http://127.0.0.1:${await child.listening(30_000)}`;
      assert.equal((await fetch(`${url}/readyz`)).status, 200);
      const status = readFileSync(`/proc/${child.proc.pid}/status`, 'utf8');
      assert.match(status, new RegExp(`^Uid:\\s+${NOBODY}\\s+${NOBODY}`, 'm'), 'setpriv child ran as nobody');
      for (const path of manifestProbePaths()) assert.equal((await fetch(`${url}${path}`)).status, 200, `GET ${path}`);
      const gen = await fetch(`${url}/generate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ count: 2, steps: 2, seed: 3 }),
      });
      assert.equal(gen.status, 200);
      assert.equal(gen.headers.get('content-type'), 'image/png');
      assert.ok((await gen.arrayBuffer()).byteLength > 8);
      child.proc.kill('SIGTERM');
      assert.equal(await child.exited, 0, `drained and exited 0\n${child.tail()}`);
    } finally {
      await child.stop();
      chmodSync(modelDir, 0o755);
      rmSync(base, { recursive: true, force: true });
    }
  },
);
