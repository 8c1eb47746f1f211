// SPDX-License-Identifier: MIT
// No crash loops: a worker that dies after a good start and then fails at load is respawned with
// exponential backoff (each attempt logged and counted, readiness false meanwhile), and after
// WORKER_MAX_FAILURES consecutive failures the pool gives up, which main.ts turns into exit 1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, writeFile } from 'node:fs/promises';
import { pino } from 'pino';
import request from 'supertest';
import { startRealApp, type RealServer } from './helpers.ts';

interface LogLine {
  level: number;
  msg: string;
  time: number;
  attempt?: number;
  delayMs?: number;
  failures?: number;
}

function capturingLogger(): { logger: pino.Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino(
    { level: 'info' },
    {
      write: (line: string) => {
        lines.push(JSON.parse(line) as LogLine);
      },
    },
  );
  return { logger, lines };
}

const killWorker = async (server: RealServer): Promise<void> => {
  const slots = (server.pool as unknown as { slots: { worker: { terminate(): Promise<number> } }[] }).slots;
  await slots[0]!.worker.terminate();
};

const until = async (condition: () => boolean, timeoutMs = 120_000): Promise<void> => {
  const t0 = Date.now();
  while (!condition()) {
    if (Date.now() - t0 > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
};

const ENV = { WORKER_RESTART_BASE_MS: '100', WORKER_RESTART_MAX_MS: '300', WORKER_MAX_FAILURES: '3' };

// Each respawn loads tsx in a fresh worker thread: seconds apiece on a loaded machine.
void test(
  'a worker that fails at load after a good start: backoff 100, 200, then capped at 300 ms, then give up',
  { timeout: 180_000 },
  async () => {
    const { logger, lines } = capturingLogger();
    let restarts = 0;
    const gaveUp: string[] = [];
    const server = await startRealApp({}, ENV, {
      logger,
      onRestart: () => {
        restarts++;
      },
      onGiveUp: (reason) => {
        gaveUp.push(reason);
      },
    });
    try {
      assert.equal((await request(server.handle.app).post('/generate').send({ seed: 1 })).status, 200, 'good start');
      await writeFile(server.model.modelPath, Buffer.from('not an onnx model'.repeat(10)));
      await killWorker(server);
      assert.equal((await request(server.handle.app).get('/readyz')).status, 503);
      await until(() => gaveUp.length > 0);
      assert.match(gaveUp[0]!, /failed to restart 3 times in a row/);
      assert.equal(gaveUp.length, 1);
      assert.equal(server.pool.ready(), false, 'readiness stays false');
      assert.equal((await request(server.handle.app).get('/readyz')).status, 503);
      const attempts = lines.filter((l) => l.attempt !== undefined);
      // The death of the ready worker, then failed loads; the third failure in a row gives up.
      assert.deepEqual(
        attempts.map((l) => [l.attempt, l.delayMs]),
        [
          [1, 100],
          [2, 200],
          [3, 300],
        ],
      );
      assert.equal(restarts, 3, 'every attempt is counted');
      assert.ok(lines.some((l) => l.level === 60 && /giving up/.test(l.msg)));
      // Each wait is at least the logged delay: no attempt came early.
      for (let i = 1; i < attempts.length; i++) {
        assert.ok(attempts[i]!.time - attempts[i - 1]!.time >= attempts[i - 1]!.delayMs!, JSON.stringify(attempts));
      }
      await new Promise((r) => setTimeout(r, 600));
      assert.equal(restarts, 3, 'no respawn after giving up');
    } finally {
      await server.close();
    }
  },
);

void test('a worker that comes back resets the failure count and serves again', { timeout: 180_000 }, async () => {
  const { logger, lines } = capturingLogger();
  const gaveUp: string[] = [];
  const server = await startRealApp({}, ENV, {
    logger,
    onGiveUp: (reason) => {
      gaveUp.push(reason);
    },
  });
  const good = `${server.model.modelPath}.good`;
  try {
    await copyFile(server.model.modelPath, good);
    await writeFile(server.model.modelPath, Buffer.from('garbage'));
    await killWorker(server);
    await until(() => lines.some((l) => l.failures === 1));
    await copyFile(good, server.model.modelPath);
    await until(() => server.pool.ready());
    assert.ok(lines.some((l) => l.msg === 'inference worker is back'));
    assert.equal((await request(server.handle.app).post('/generate').send({ seed: 1 })).status, 200);
    // Dying again starts from the base delay, not where the previous streak stopped.
    await killWorker(server);
    await until(() => server.pool.ready());
    const attempts = lines.filter((l) => l.attempt !== undefined).map((l) => l.delayMs);
    assert.equal(attempts.at(-1), 100);
    assert.deepEqual(gaveUp, []);
  } finally {
    await server.close();
  }
});
