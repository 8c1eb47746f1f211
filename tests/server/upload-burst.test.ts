// SPDX-License-Identifier: MIT
// Bursts of uploads against the real app on a real socket: admission waits (bounded queue,
// bounded time) for one of MAX_UPLOADS slots instead of refusing at once, so 50 concurrent small
// uploads all succeed with the defaults; a 500-upload burst yields only 200s and fast 503s with
// Retry-After, and never more bodies in flight or waiters than the bounds that cap memory.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startRealApp, type RealServer } from './helpers.ts';
import { BOUNDARY, fieldPart, filePart, multipart, solidPng } from './fixtures.ts';

interface Answer {
  status: number;
  code: string | null;
  retryAfter: string | undefined;
}

let server: RealServer;
let listener: Server;
let port: number;

async function listen(real: RealServer): Promise<void> {
  listener = real.handle.app.listen(0, '127.0.0.1');
  await new Promise((resolve) => listener.once('listening', resolve));
  port = (listener.address() as AddressInfo).port;
}

/**
 * One upload on its own connection. The whole body is written at once (as curl does for a small
 * file) unless `hold` is given: then all but the last bytes go out and the rest once `hold` resolves.
 */
function upload(body: Buffer, agent: Agent, hold?: Promise<void>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        path: '/project',
        method: 'POST',
        agent,
        headers: {
          'Content-Type': `multipart/form-data; boundary=${BOUNDARY}`,
          'Content-Length': String(body.length),
          Accept: 'application/json',
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          let code: string | null = null;
          if (res.statusCode !== 200) code = (JSON.parse(Buffer.concat(chunks).toString()) as { error: { code: string } }).error.code;
          resolve({ status: res.statusCode ?? 0, code, retryAfter: res.headers['retry-after'] });
        });
      },
    );
    req.on('error', reject);
    if (hold === undefined) {
      req.end(body);
      return;
    }
    req.write(body.subarray(0, body.length - 8));
    void hold.then(() => {
      req.end(body.subarray(body.length - 8));
    });
  });
}

before(async () => {
  // Default MAX_UPLOADS and MAX_UPLOAD_QUEUE; a long UPLOAD_WAIT_MS because the first test holds
  // every body open on purpose until all 50 have arrived, however slow the machine is.
  server = await startRealApp({ channels: 1, height: 8, width: 8 }, { UPLOAD_WAIT_MS: '120000' });
  await listen(server);
});
after(async () => {
  listener.closeAllConnections();
  listener.close();
  await server.close();
});

void test('50 concurrent small uploads all succeed with the default MAX_UPLOADS', async () => {
  assert.equal(server.config.maxUploads, 4, 'the default is what is tested');
  const body = multipart([filePart('image', await solidPng(28, 28)), fieldPart('steps', '2')]);
  const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
  // All 50 arrive before any body is complete: 4 are being read, 46 must wait for a slot.
  let release = (): void => undefined;
  const hold = new Promise<void>((resolve) => {
    release = resolve;
  });
  const pending = Array.from({ length: 50 }, () => upload(body, agent, hold));
  const t0 = Date.now();
  while (server.handle.uploads.stats().waiting < 46 && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(server.handle.uploads.stats(), { active: 4, waiting: 46, peakActive: 4, peakWaiting: 46 });
  release();
  const answers = await Promise.all(pending);
  assert.deepEqual(
    answers.filter((a) => a.status !== 200),
    [],
    'every upload got a slot',
  );
  const stats = server.handle.uploads.stats();
  assert.deepEqual([stats.active, stats.waiting, stats.peakActive], [0, 0, 4]);
});

void test(
  'a 500-upload burst: only 200s and fast 503s with Retry-After; in-flight bodies and waiters stay bounded',
  { timeout: 120_000 },
  async () => {
    const body = multipart([filePart('image', await solidPng(28, 28))]);
    const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
    const answers = await Promise.all(Array.from({ length: 500 }, () => upload(body, agent)));
    const byStatus = new Map<string, number>();
    for (const a of answers)
      byStatus.set(`${a.status} ${a.code ?? ''}`.trim(), (byStatus.get(`${a.status} ${a.code ?? ''}`.trim()) ?? 0) + 1);
    const summary = JSON.stringify([...byStatus]);
    for (const a of answers) {
      if (a.status === 200) continue;
      // The only refusals allowed: upload admission full or timed out, or the inference queue full.
      assert.equal(a.status, 503, summary);
      assert.ok(a.code === 'too_many_uploads' || a.code === 'queue_full', summary);
      assert.equal(a.retryAfter, '1', summary);
    }
    assert.ok((byStatus.get('200') ?? 0) >= server.config.maxUploads, summary);
    // Memory: upload bytes in this process are bounded by the bodies being read at once; waiters hold
    // only a socket (their bodies wait in kernel buffers). Neither bound was exceeded.
    const stats = server.handle.uploads.stats();
    assert.ok(stats.peakActive <= server.config.maxUploads, `peak active ${stats.peakActive}`);
    assert.ok(stats.peakWaiting <= server.config.maxUploadQueue, `peak waiting ${stats.peakWaiting}`);
    assert.deepEqual([stats.active, stats.waiting], [0, 0]);
    const codes = (await server.handle.metrics.registry.getMetricsAsJSON()).find((m) => m.name === 'ign_requests_total')!;
    assert.ok(
      codes.values.every((v) => !String(v.labels.code).startsWith('5') || v.labels.code === '503'),
      JSON.stringify(codes.values),
    );
  },
);
