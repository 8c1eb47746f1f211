// SPDX-License-Identifier: MIT
// fast-check properties against the real app on the real worker pool (docs/serving.md, "How it is tested"):
// over /generate JSON bodies, the status is what an independent model of the contract predicts
// (valid ⇔ 200); over raw requests, every status is in the allowed set and every error body keeps
// the error contract with no stack text. FC_SEED reproduces a run; FC_RUNS scales it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { assertSchema, startRealApp, type RealServer } from './helpers.ts';
import { BOUNDARY, filePart, multipart, solidPng } from './fixtures.ts';

const SEED = Number(process.env.FC_SEED ?? 20_240_611);
const RUNS = Number(process.env.FC_RUNS ?? 800);
const MAX_COUNT = 4;
const MAX_STEPS = 5;
const JSON_LIMIT_BYTES = 4096;
const ALLOWED = new Set([200, 400, 404, 405, 406, 413, 415, 422, 503]);
const STACK_TEXT = /at .+\.(js|ts):\d+|node_modules/;

let server: RealServer;
let listener: Server;
let port: number;
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
before(async () => {
  server = await startRealApp({ channels: 1, height: 8, width: 8 }, { MAX_COUNT: String(MAX_COUNT), MAX_STEPS: String(MAX_STEPS) });
  listener = server.handle.app.listen(0, '127.0.0.1');
  await new Promise((resolve) => listener.once('listening', resolve));
  port = (listener.address() as AddressInfo).port;
});
after(async () => {
  agent.destroy();
  listener.closeAllConnections();
  await new Promise((resolve) => listener.close(resolve));
  await server.close();
});

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  bytes: Buffer;
  text: string;
}

/** One request over a kept-alive socket, exact bytes and headers (no client-side re-encoding). */
function send(method: string, path: string, headers: Record<string, string>, body: Buffer): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, path, method, agent, headers: { ...headers, 'Content-Length': String(body.length) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const bytes = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, bytes, text: bytes.toString('utf8') });
        });
      },
    );
    req.setTimeout(10_000, () => {
      req.destroy(new Error(`${method} ${path}: no answer in 10 s`));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The error contract (docs/serving.md, "Error contract"; OIP shape under /v2), and no stack text anywhere. */
function assertErrorContract(path: string, reply: Reply, what: string): void {
  assert.doesNotMatch(reply.text, STACK_TEXT, what);
  if (reply.status < 400) return;
  assert.match(String(reply.headers['content-type']), /^application\/json/, what);
  const body = JSON.parse(reply.text) as { requestId?: unknown };
  if (path === '/v2' || path.startsWith('/v2/')) {
    assertSchema('OipError', body);
    return;
  }
  assertSchema('Error', body);
  assert.equal(body.requestId, reply.headers['x-request-id'], what);
}

// ---- /generate bodies as JSON text, so literals like 1e400, -0, 4.0 and "__proto__" keys survive ----

const numberLiteral = fc.oneof(
  fc.constantFrom(
    '0',
    '-0',
    '1',
    '2',
    '4',
    '5',
    '6',
    '1.0',
    '4.0',
    '1e0',
    '2E0',
    '1.5',
    '-1',
    '16',
    '17',
    '20',
    '21',
    '4294967295',
    '4294967296',
    '9007199254740993',
    '1e400',
    '-1e400',
    '2e-300',
    '1e-7',
    '0.99999999999999999',
  ),
  fc.integer({ min: -10, max: 30 }).map(String),
  fc.integer().map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => JSON.stringify(d)),
  fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }).map(String),
);
const stringLiteral = fc
  .oneof(fc.constantFrom('gaussian', 'fourier', 'covariance', 'fourier-mixture', 'Gaussian', '4', '', 'true'), fc.string({ maxLength: 12 }))
  .map((s) => JSON.stringify(s));
const leaf = fc.oneof(
  numberLiteral,
  stringLiteral,
  fc.constantFrom('true', 'false', 'null', '[]', '{}'),
  fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
);
const oddKey = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'Count', 'toString', '', 'count ', 'steps\u0000'),
  fc.string({ maxLength: 8 }),
);
const mostly = (valid: fc.Arbitrary<string>): fc.Arbitrary<string> =>
  fc.oneof({ weight: 4, arbitrary: valid }, { weight: 1, arbitrary: leaf });
const seedValue = mostly(fc.integer({ min: 0, max: 2 ** 32 - 1 }).map(String));

const objectText = (entries: readonly (readonly [string, string])[]): string =>
  `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`;

const interpolateValue = mostly(
  fc
    .record({
      from: seedValue,
      to: seedValue,
      points: mostly(fc.integer({ min: 2, max: MAX_COUNT }).map(String)),
      drop: fc.option(fc.constantFrom('from', 'to', 'points'), { freq: 6 }),
      extra: fc.option(fc.tuple(oddKey, leaf), { freq: 6 }),
    })
    .map(({ drop, extra, ...fields }) =>
      objectText([...Object.entries(fields).filter(([k]) => k !== drop), ...(extra === null ? [] : [extra])]),
    ),
);

const entry = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(fc.constant('count'), mostly(fc.integer({ min: 1, max: MAX_COUNT }).map(String))) },
  { weight: 3, arbitrary: fc.tuple(fc.constant('steps'), mostly(fc.integer({ min: 1, max: MAX_STEPS }).map(String))) },
  { weight: 3, arbitrary: fc.tuple(fc.constant('seed'), seedValue) },
  {
    weight: 2,
    arbitrary: fc.tuple(fc.constant('noise'), mostly(fc.constantFrom('"gaussian"', '"fourier"', '"covariance"', '"fourier-mixture"'))),
  },
  { weight: 2, arbitrary: fc.tuple(fc.constant('returnSteps'), mostly(fc.constantFrom('true', 'false'))) },
  { weight: 2, arbitrary: fc.tuple(fc.constant('interpolate'), interpolateValue) },
  { weight: 1, arbitrary: fc.tuple(oddKey, leaf) },
);

const generateBody = fc.oneof(
  { weight: 12, arbitrary: fc.array(entry, { maxLength: 4 }).map(objectText) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.constantFrom(`{"seed":1,"pad":"${'x'.repeat(5000)}"}`, `${' '.repeat(5000)}{}`, '{"count":1', '') },
);

/** Accept header → what negotiation picks: PNG, JSON, or nothing acceptable (406). */
const ACCEPT: readonly [string | null, 'png' | 'json' | null][] = [
  [null, 'png'],
  ['*/*', 'png'],
  ['image/png', 'png'],
  ['image/*', 'png'],
  ['application/json', 'json'],
  ['application/*', 'json'],
  ['text/html, application/json;q=0.5', 'json'],
  ['text/html', null],
  ['image/png;q=0', null],
];
/** Content-Type → accepted as JSON? (charset must be utf-8 when given). */
const CONTENT_TYPE: readonly [string, boolean][] = [
  ['application/json', true],
  ['application/json; charset=utf-8', true],
  ['application/json;charset="UTF-8"', true],
  ['application/json; charset=latin1', false],
  ['text/plain', false],
  ['application/x-www-form-urlencoded', false],
];

/** The first (common) option four times in five, the others uniformly. */
const mostlyFirst = <T>(options: readonly T[]): fc.Arbitrary<T> =>
  fc.oneof({ weight: 4, arbitrary: fc.constant(options[0]!) }, { weight: 1, arbitrary: fc.constantFrom(...options.slice(1)) });

const isInt = (v: unknown, lo: number, hi: number): boolean => typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;
const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isSeed = (v: unknown): boolean => isInt(v, 0, 2 ** 32 - 1);

function validInterpolate(v: unknown): boolean {
  if (!isPlainObject(v)) return false;
  const keys = Object.keys(v);
  return (
    keys.every((k) => ['from', 'to', 'points'].includes(k)) &&
    keys.length === 3 &&
    isSeed(v.from) &&
    isSeed(v.to) &&
    isInt(v.points, 2, MAX_COUNT)
  );
}

const FIELD_OK: Readonly<Record<string, (v: unknown) => boolean>> = {
  count: (v) => isInt(v, 1, MAX_COUNT),
  steps: (v) => isInt(v, 1, MAX_STEPS),
  seed: isSeed,
  noise: (v) => v === 'gaussian' || v === 'fourier' || v === 'covariance' || v === 'fourier-mixture',
  returnSteps: (v) => typeof v === 'boolean',
  interpolate: validInterpolate,
};

/** The contract, modelled independently of the server: the status /generate must answer. */
function expectedStatus(text: string, jsonType: boolean, accept: 'png' | 'json' | null): number {
  if (!jsonType) return 415;
  if (Buffer.byteLength(text) > JSON_LIMIT_BYTES) return 413;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return 400;
  }
  if (!isPlainObject(body)) return 400;
  if (!Object.keys(body).every((k) => Object.hasOwn(FIELD_OK, k) && FIELD_OK[k]!(body[k]))) return 400;
  if (accept === null) return 406;
  // The tiny model card has no noise statistics; interpolate replaces count and seed.
  if (body.noise === 'fourier' || body.noise === 'covariance' || body.noise === 'fourier-mixture') return 400;
  if ('interpolate' in body && ('count' in body || 'seed' in body)) return 400;
  return 200;
}

function expectedCount(body: Record<string, unknown>): number {
  if (isPlainObject(body.interpolate)) return body.interpolate.points as number;
  return typeof body.count === 'number' ? body.count : 1;
}

function assertGenerated(reply: Reply, text: string, accept: 'png' | 'json', what: string): void {
  const body = JSON.parse(text) as Record<string, unknown>;
  if (typeof body.seed === 'number') assert.equal(reply.headers['x-seed'], String(body.seed), what);
  if (accept === 'png') {
    assert.equal(reply.headers['content-type'], 'image/png', what);
    assert.equal(reply.bytes.subarray(0, 4).toString('latin1'), '\x89PNG', what);
    return;
  }
  const json = JSON.parse(reply.text) as { images: { residuals: number[] }[] };
  assertSchema('GenerateResponse', json);
  assert.equal(json.images.length, expectedCount(body), what);
  assert.equal(json.images[0]!.residuals.length, typeof body.steps === 'number' ? body.steps : 1, what);
}

void test('/generate: status is predicted by the contract (valid ⇔ 200), errors keep the contract', async (t) => {
  t.diagnostic(`FC_SEED=${SEED} FC_RUNS=${RUNS}`);
  const seen = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(
      generateBody,
      mostlyFirst(ACCEPT),
      mostlyFirst(CONTENT_TYPE),
      async (text, [acceptHeader, accept], [contentType, jsonType]) => {
        const headers: Record<string, string> = { 'Content-Type': contentType, ...(acceptHeader === null ? {} : { Accept: acceptHeader }) };
        const reply = await send('POST', '/generate', headers, Buffer.from(text));
        const what = `${contentType} / Accept ${String(acceptHeader)} / ${text.slice(0, 200)} → ${reply.status} ${reply.text.slice(0, 200)}`;
        seen.set(reply.status, (seen.get(reply.status) ?? 0) + 1);
        assert.ok(ALLOWED.has(reply.status), what);
        assert.equal(reply.status, expectedStatus(text, jsonType, accept), what);
        assertErrorContract('/generate', reply, what);
        if (reply.status === 200) assertGenerated(reply, text, accept!, what);
      },
    ),
    {
      seed: SEED,
      numRuns: RUNS,
      includeErrorInReport: true,
      // Always tried: an empty application/json body (body-parser reads it as {}, but the body is required).
      examples: [
        ['', [null, 'png'], ['application/json', true]],
        ['{"__proto__":{"count":2}}', [null, 'png'], ['application/json', true]],
      ],
    },
  );
  t.diagnostic(`statuses ${JSON.stringify(Object.fromEntries([...seen].sort()))}`);
  assert.ok((seen.get(200) ?? 0) >= RUNS / 10 && (seen.get(400) ?? 0) >= RUNS / 10, 'the generator reaches both valid and invalid bodies');
});

// ---- raw requests: any method, path, media type, encoding and body ----

const PATHS = [
  '/generate',
  '/project',
  '/project?steps=2&seed=3',
  '/project?steps=0',
  '/project?corrupt=mask',
  '/project?corrupt=bogus',
  '/project?x=1',
  '/project?steps=1&steps=2',
  '/project?__proto__=1',
  '/project?steps[]=1',
  '/healthz',
  '/readyz',
  '/metrics',
  '/v2',
  '/v2/health/ready',
  '/v2/models/tiny',
  '/v2/models/nope/ready',
  '/v2/models/%ff',
  '/openapi.yaml',
  '/',
  '/index.html',
  '/app.js',
  '/%zz',
  '/..%2f..%2fetc%2fpasswd',
  '/generate?count=3',
  '/nope',
  '//generate',
  '/generate/',
  '/GENERATE',
];
const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 40 });
const rawPath = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('/generate', '/project', '/project?steps=2&seed=3') },
  { weight: 3, arbitrary: fc.constantFrom(...PATHS) },
  { weight: 1, arbitrary: fc.webPath().map((p) => (p.startsWith('/') ? p : `/${p}`)) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('/project', '/generate'), fc.webQueryParameters()).map(([p, q]) => `${p}?${q}`) },
);
const rawContentType = fc.option(
  fc.oneof(
    {
      weight: 4,
      arbitrary: fc.constantFrom(
        'application/json',
        'application/json; charset=utf-16',
        'application/json; charset=bogus',
        'image/png',
        'image/jpeg',
        'image/webp',
        'image/gif',
        'multipart/form-data',
        `multipart/form-data; boundary=${BOUNDARY}`,
        'multipart/form-data; boundary=',
        'text/plain',
        'application/octet-stream',
        'application/x-www-form-urlencoded',
        '*/*',
        'image/*',
      ),
    },
    { weight: 1, arbitrary: printable },
  ),
);
const rawEncoding = fc.option(fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'x-bogus', 'gzip, deflate', 'GZIP'), { freq: 4 });
const rawAccept = fc.option(fc.oneof(fc.constantFrom(...ACCEPT.flatMap(([h]) => (h === null ? [] : [h]))), printable), { freq: 3 });

/** Bodies: nothing, noise, JSON text, a real PNG (raw, gzipped, in a multipart envelope), multipart noise. */
function rawBody(png: Buffer): fc.Arbitrary<Buffer> {
  return fc.oneof(
    fc.constant(Buffer.alloc(0)),
    fc.uint8Array({ maxLength: 3000 }).map((b) => Buffer.from(b)),
    generateBody.map((t) => Buffer.from(t)),
    generateBody.map((t) => gzipSync(t)),
    fc.constant(png),
    fc.constant(gzipSync(png)),
    fc.constantFrom('image', 'file', '').map((name) => multipart([filePart(name, png)])),
    fc.uint8Array({ maxLength: 500 }).map((b) => multipart([filePart('image', Buffer.from(b))], false)),
  );
}

void test('raw requests: status always in the allowed set, never 5xx, error contract kept', async (t) => {
  t.diagnostic(`FC_SEED=${SEED} FC_RUNS=${RUNS}`);
  const png = await solidPng(12, 9);
  const seen = new Map<number, number>();
  const method = fc.oneof(
    { weight: 4, arbitrary: fc.constant('POST') },
    { weight: 1, arbitrary: fc.constantFrom('GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS') },
  );
  await fc.assert(
    fc.asyncProperty(
      method,
      rawPath,
      rawContentType,
      rawEncoding,
      rawAccept,
      rawBody(png),
      async (verb, path, contentType, encoding, accept, body) => {
        const headers: Record<string, string> = {
          ...(contentType === null ? {} : { 'Content-Type': contentType }),
          ...(encoding === null ? {} : { 'Content-Encoding': encoding }),
          ...(accept === null ? {} : { Accept: accept }),
        };
        const reply = await send(verb, path, headers, body);
        const what = `${verb} ${path} ${JSON.stringify(headers)} body ${body.length} B ${body.subarray(0, 60).toString('latin1')} → ${reply.status} ${reply.text.slice(0, 200)}`;
        seen.set(reply.status, (seen.get(reply.status) ?? 0) + 1);
        assert.ok(ALLOWED.has(reply.status), what);
        assertErrorContract(path, reply, what);
      },
    ),
    { seed: SEED, numRuns: RUNS, includeErrorInReport: true },
  );
  t.diagnostic(`statuses ${JSON.stringify(Object.fromEntries([...seen].sort()))}`);
});
