// SPDX-License-Identifier: MIT
// Capacity, deadlines, disconnects and uploads through the HTTP layer, with a deterministic slow
// Generator (200 ms per step) standing in for the worker pool.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import request from 'supertest';
import type { LoadedModel } from '../../common/model-card.ts';
import { createApp, type IgnApp } from '../../server/app.ts';
import { assertError, fakeModel, silentLogger, SlowGenerator, startRealApp, testConfig } from './helpers.ts';
import { BOUNDARY, filePart, multipart, solidPng } from './fixtures.ts';

let model: LoadedModel;
let cleanup: () => Promise<void>;
before(async () => {
  ({ model, cleanup } = await fakeModel());
});
after(async () => {
  await cleanup();
});

function slowApp(env: Record<string, string>, stepMs = 200): { handle: IgnApp; generator: SlowGenerator } {
  const generator = new SlowGenerator(stepMs);
  const handle = createApp({ config: testConfig(env), models: [{ model, generator }], logger: silentLogger });
  return { handle, generator };
}

async function listen(handle: IgnApp): Promise<{ server: Server; port: number }> {
  const server = handle.app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

const metricValue = async (handle: IgnApp, name: string, labels: Record<string, string> = {}): Promise<number> => {
  const metric = (await handle.metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  const match = metric?.values.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val));
  return match?.value ?? 0;
};

void test('MAX_QUEUE=2, one worker: 1 then 5 requests → exactly 3 rejected with Retry-After, queue back to 0', async () => {
  const { handle } = slowApp({ MAX_QUEUE: '2', MAX_BATCH_SIZE: '1', MAX_QUEUE_DELAY_MS: '0' });
  const gen = (): request.Test => request(handle.app).post('/generate').set('Accept', 'application/json').send({ seed: 1 });
  const first = gen().then((r) => r);
  await new Promise((r) => setTimeout(r, 50));
  const burst = await Promise.all([0, 1, 2, 3, 4].map(() => gen().then((r) => r)));
  const statuses = [(await first).status, ...burst.map((r) => r.status)];
  assert.deepEqual(statuses.filter((s) => s === 200).length, 3);
  const rejected = burst.filter((r) => r.status === 503);
  assert.equal(rejected.length, 3);
  for (const res of rejected) {
    assertError(res, 503, 'queue_full');
    assert.equal(res.headers['retry-after'], '1');
  }
  assert.equal(handle.models.served()[0]!.queue.depth(), 0);
  assert.equal(await metricValue(handle, 'ign_rejected_requests_total', { reason: 'queue_full' }), 3);
  assert.equal(await metricValue(handle, 'ign_queue_depth'), 0);
});

void test('REQUEST_TIMEOUT_MS: running past the deadline → 504, never started → 503 queue_timeout', async () => {
  // One 1 s step: the first request is still running when its 300 ms deadline passes, and the
  // second, sent once the first has started, expires in the queue whatever the machine's load.
  const { handle, generator } = slowApp({ REQUEST_TIMEOUT_MS: '300', MAX_BATCH_SIZE: '1', MAX_QUEUE_DELAY_MS: '0' }, 1000);
  const gen = (): Promise<request.Response> =>
    request(handle.app)
      .post('/generate')
      .send({ steps: 3, seed: 1 })
      .then((r) => r);
  const first = gen();
  while (generator.batches.length === 0) await new Promise((r) => setTimeout(r, 5));
  const [running, queued] = await Promise.all([first, gen()]);
  assertError(running, 504, 'deadline_exceeded');
  assertError(queued, 503, 'queue_timeout');
  assert.ok(queued.headers['retry-after'] !== undefined);
  await handle.models.served()[0]!.queue.idle();
  assert.equal(generator.cancelled, 1, 'the running batch stopped between steps');
  assert.equal(generator.batches.length, 1);
});

void test('a client that disconnects drops its queued work and cancels its running batch', async () => {
  const { handle, generator } = slowApp({ MAX_BATCH_SIZE: '1', MAX_QUEUE_DELAY_MS: '0' }, 100);
  const { server, port } = await listen(handle);
  try {
    const body = JSON.stringify({ steps: 20, seed: 1 });
    const send = (): ReturnType<typeof connect> =>
      connect(port, '127.0.0.1', function (this: ReturnType<typeof connect>) {
        this.write(`POST /generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
      });
    const sockets = [send(), send()];
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(handle.models.served()[0]!.queue.depth(), 1);
    for (const s of sockets) s.destroy();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(handle.models.served()[0]!.queue.depth(), 0);
    await handle.models.served()[0]!.queue.idle();
    assert.equal(generator.batches.length, 1, 'the queued request never ran');
    assert.equal(generator.cancelled, 1);
    assert.equal(await metricValue(handle, 'ign_rejected_requests_total', { reason: 'client_gone' }), 2);
  } finally {
    server.close();
  }
});

void test('#26 uploads beyond MAX_UPLOADS → 503 too_many_uploads + Retry-After + Connection: close', async () => {
  const { handle } = slowApp({ MAX_UPLOADS: '1', UPLOAD_WAIT_MS: '300' });
  const { server, port } = await listen(handle);
  const holder = connect(port, '127.0.0.1');
  try {
    // Hold the only upload slot: headers and half a body, never finished.
    holder.write(
      `POST /project HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=${BOUNDARY}\r\nContent-Length: 100000\r\n\r\n--${BOUNDARY}\r\n`,
    );
    await new Promise((r) => setTimeout(r, 100));
    const png = await solidPng(4, 4);
    const res = await request(server)
      .post('/project')
      .set('Content-Type', `multipart/form-data; boundary=${BOUNDARY}`)
      .send(multipart([filePart('image', png)]));
    assertError(res, 503, 'too_many_uploads');
    assert.equal(res.headers['retry-after'], '1');
    assert.equal(res.headers.connection, 'close');
    // #25: the holder aborts mid-upload; the slot is released and nothing counts as a 5xx.
    holder.destroy();
    await new Promise((r) => setTimeout(r, 100));
    const ok = await request(server)
      .post('/project')
      .set('Content-Type', `multipart/form-data; boundary=${BOUNDARY}`)
      .send(multipart([filePart('image', png)]));
    assert.equal(ok.status, 200);
    const requests = (await handle.metrics.registry.getMetricsAsJSON()).find((m) => m.name === 'ign_requests_total')!;
    assert.ok(
      requests.values.every((v) => !String(v.labels.code).startsWith('5') || v.labels.code === '503'),
      JSON.stringify(requests.values),
    );
    assert.equal((await request(server).get('/healthz')).status, 200);
  } finally {
    holder.destroy();
    server.close();
  }
});

void test('API keys: 401 + WWW-Authenticate without a valid key; health exempt; OIP error shape', async () => {
  const key = 'k'.repeat(32);
  const { handle } = slowApp({ API_KEYS: `${'z'.repeat(20)},${key}` }, 1);
  const noKey = await request(handle.app).post('/generate').send({ seed: 1 });
  assertError(noKey, 401, 'unauthorized');
  assert.match(noKey.headers['www-authenticate'] ?? '', /^Bearer/);
  assertError(await request(handle.app).post('/generate').set('Authorization', 'Bearer wrong').send({ seed: 1 }), 401, 'unauthorized');
  assert.equal((await request(handle.app).post('/generate').set('Authorization', `Bearer ${key}`).send({ seed: 1 })).status, 200);
  assert.equal((await request(handle.app).post('/generate').set('X-API-Key', key).send({ seed: 1 })).status, 200);
  assert.equal((await request(handle.app).get('/metrics')).status, 401);
  const oip = await request(handle.app).get('/v2/models/tiny');
  assert.equal(oip.status, 401);
  assert.deepEqual(Object.keys(oip.body as object), ['error']);
  for (const path of ['/healthz', '/readyz', '/v2/health/live', '/v2/health/ready', '/openapi.yaml']) {
    assert.equal((await request(handle.app).get(path)).status, 200, path);
  }
});

void test('request ids: a valid X-Request-Id is echoed, an invalid one replaced', async () => {
  const { handle } = slowApp({}, 1);
  const echoed = await request(handle.app).get('/healthz').set('X-Request-Id', 'abc.DEF-123_x');
  assert.equal(echoed.headers['x-request-id'], 'abc.DEF-123_x');
  const replaced = await request(handle.app).post('/generate').set('X-Request-Id', 'bad id<script>').send('x');
  assert.match(replaced.headers['x-request-id'] ?? '', /^[0-9a-f-]{36}$/);
  assert.equal((replaced.body as { requestId: string }).requestId, replaced.headers['x-request-id']);
});

void test('a model that outputs NaN → 500 invalid_model_output, and the server keeps serving', async () => {
  const nan = await startRealApp({ channels: 1, height: 4, width: 4, kind: 'nan' });
  try {
    assertError(
      await request(nan.handle.app).post('/generate').set('Accept', 'application/json').send({ seed: 1 }),
      500,
      'invalid_model_output',
    );
    assert.equal((await request(nan.handle.app).get('/readyz')).status, 200);
  } finally {
    await nan.close();
  }
});

void test('a worker that dies is respawned; readiness is 503 until it is back', async () => {
  const real = await startRealApp({ channels: 1, height: 4, width: 4 });
  try {
    const workers = (real.pool as unknown as { slots: { worker: { terminate(): Promise<number> } }[] }).slots;
    await workers[0]!.worker.terminate();
    assert.equal((await request(real.handle.app).get('/readyz')).status, 503);
    const t0 = Date.now();
    while (!real.pool.ready() && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 50));
    assert.equal((await request(real.handle.app).get('/readyz')).status, 200);
    assert.equal((await request(real.handle.app).post('/generate').send({ seed: 1 })).status, 200);
  } finally {
    await real.close();
  }
});
