// SPDX-License-Identifier: MIT
/**
 * POST /v2/models/{name}/infer: the Open Inference Protocol's JSON request, from the protocol's own
 * example shape (id, inputs with name/shape/datatype/data, outputs by name), against the real pool
 * on the tiny 1×8×8 model; every bad input gets the protocol's `{"error": msg}` with a 400.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { createApp } from '../../server/app.ts';
import { assertSchema, fakeModel, rawPost, SlowGenerator, silentLogger, startRealApp, testConfig, type RealServer } from './helpers.ts';

let server: RealServer;
before(async () => {
  server = await startRealApp({ channels: 1, height: 8, width: 8 }, { MAX_COUNT: '4' });
});
after(async () => {
  await server.close();
});

const infer = (body: unknown, path = '/v2/models/tiny/infer'): request.Test =>
  request(server.handle.app)
    .post(path)
    .send(body as object);
const pixels = (n: number, v = 0.25): number[] => new Array<number>(n * 64).fill(v);
const tensor = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  name: 'x',
  shape: [1, 1, 8, 8],
  datatype: 'FP32',
  data: pixels(1),
  ...over,
});

function assertOipError(res: { status: number; body: unknown }, status: number, pattern: RegExp): void {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assertSchema('OipError', res.body);
  assert.match((res.body as { error: string }).error, pattern);
}

void test('the protocol example shape: id echoed, outputs selected by name, flat and nested data agree', async () => {
  const flat = await infer({ id: '42', inputs: [tensor()], outputs: [{ name: 'y' }] });
  assert.equal(flat.status, 200, flat.text);
  assertSchema('OipInferResponse', flat.body);
  const body = flat.body as {
    id: string;
    model_name: string;
    outputs: { name: string; datatype: string; shape: number[]; data: number[] }[];
  };
  assert.equal(body.id, '42');
  assert.deepEqual(
    body.outputs.map((o) => [o.name, o.datatype, o.shape]),
    [['y', 'FP32', [1, 1, 8, 8]]],
  );
  assert.ok(body.outputs[0]!.data.every((v) => Math.abs(v - Math.tanh(0.8 * 0.25 + 0.1)) < 1e-6));
  const nestedData = [[Array.from({ length: 8 }, () => new Array<number>(8).fill(0.25))]];
  const nested = await infer({ inputs: [tensor({ data: nestedData })] });
  assert.equal(nested.status, 200, nested.text);
  assert.deepEqual((nested.body as typeof body).outputs[0]!.data, body.outputs[0]!.data);
  assert.equal((nested.body as { id?: string }).id, undefined, 'no id sent, none echoed');
});

void test('every bad tensor is a 400 with the protocol error body', async () => {
  const cases: [string, unknown, RegExp][] = [
    ['wrong datatype', { inputs: [tensor({ datatype: 'INT32' })] }, /datatype must be FP32/],
    ['BYTES datatype', { inputs: [tensor({ datatype: 'BYTES', data: ['a'] })] }, /datatype must be FP32/],
    ['wrong shape', { inputs: [tensor({ shape: [1, 1, 8, 9] })] }, /shape must be \[N, 1, 8, 8\]/],
    ['rank 3', { inputs: [tensor({ shape: [1, 8, 8] })] }, /shape must be/],
    ['too few elements', { inputs: [tensor({ data: pixels(1).slice(1) })] }, /has 63 elements; shape .* needs 64/],
    ['too many elements', { inputs: [tensor({ data: [...pixels(1), 0] })] }, /more elements than its shape/],
    ['NaN as a string', { inputs: [tensor({ data: ['NaN', ...pixels(1).slice(1)] })] }, /only numbers/],
    ['null element', { inputs: [tensor({ data: [null, ...pixels(1).slice(1)] })] }, /only numbers/],
    ['unknown input name', { inputs: [tensor({ name: 'input0' })] }, /unknown input "input0"; this model takes "x"/],
    ['N over the limit', { inputs: [tensor({ shape: [5, 1, 8, 8], data: pixels(5) })] }, /batch size N must be in \[1, 4\]/],
    ['N = 0', { inputs: [tensor({ shape: [0, 1, 8, 8], data: [] })] }, /batch size N must be in \[1, 4\]/],
    ['two inputs', { inputs: [tensor(), tensor()] }, /exactly one tensor/],
    ['no inputs', { id: '1' }, /exactly one tensor/],
    ['unknown output', { inputs: [tensor()], outputs: [{ name: 'z' }] }, /unknown output "z"/],
    ['steps 0', { inputs: [tensor()], parameters: { steps: 0 } }, /steps must be an integer in \[1, 20\]/],
    ['steps 1.5', { inputs: [tensor()], parameters: { steps: 1.5 } }, /steps must be an integer/],
    ['id not a string', { id: 7, inputs: [tensor()] }, /id must be a string/],
    ['a JSON array body', [tensor()], /must be a JSON object/],
  ];
  for (const [what, body, pattern] of cases) {
    const res = await infer(body);
    assert.equal(res.status, 400, `${what}: ${res.text}`);
    assertOipError(res, 400, pattern);
  }
});

void test('Infinity (1e999 parses to it), malformed JSON and an oversized body', async () => {
  const data = pixels(1).map(String);
  data[3] = '1e999';
  const body = `{"inputs":[{"name":"x","shape":[1,1,8,8],"datatype":"FP32","data":[${data.join(',')}]}]}`;
  const inf = await rawPost(server.handle.app, '/v2/models/tiny/infer', { 'Content-Type': 'application/json' }, Buffer.from(body));
  assertOipError(inf, 400, /finite/);
  const broken = await rawPost(
    server.handle.app,
    '/v2/models/tiny/infer',
    { 'Content-Type': 'application/json' },
    Buffer.from('{"inputs": ['),
  );
  assertOipError(broken, 400, /not valid JSON/);
  // MAX_COUNT = 4 images of 64 values: the limit is 4·64·24 bytes + 64 KiB.
  const huge = Buffer.from(`{"inputs":[{"name":"x","shape":[1,1,8,8],"datatype":"FP32","data":[${'0.5,'.repeat(40_000)}0]}]}`);
  assertOipError(await rawPost(server.handle.app, '/v2/models/tiny/infer', { 'Content-Type': 'application/json' }, huge), 413, /too large/);
  assertOipError(await infer({ inputs: [tensor()] }, '/v2/models/other/infer'), 404, /not found/);
  assertOipError(await infer({ inputs: [tensor()] }, '/v2/models/tiny/versions/2/infer'), 404, /no version "2"/);
});

void test('infer requests share the batching queue with /generate', async () => {
  const { model, cleanup } = await fakeModel();
  try {
    const generator = new SlowGenerator(30);
    const handle = createApp({ config: testConfig({ MAX_QUEUE_DELAY_MS: '100' }), models: [{ model, generator }], logger: silentLogger });
    const [a, b] = await Promise.all([
      request(handle.app).post('/generate').set('Accept', 'application/json').send({ seed: 1 }),
      request(handle.app)
        .post('/v2/models/tiny/infer')
        .send({ inputs: [tensor()] }),
    ]);
    assert.deepEqual([a.status, b.status], [200, 200]);
    assert.deepEqual(
      generator.batches.map((j) => j.count),
      [2],
      'one batch of two images',
    );
    // SlowGenerator maps x → 0.5·x + 0.25.
    assert.ok((b.body as { outputs: { data: number[] }[] }).outputs[0]!.data.every((v) => Math.abs(v - 0.375) < 1e-6));
  } finally {
    await cleanup();
  }
});
