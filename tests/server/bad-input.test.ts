// SPDX-License-Identifier: MIT
// One case per row of the bad-input catalogue (docs/serving.md, "Bad-input catalogue") against the real app.
// Rows 24-26 need a listening server: see connection-limits.test.ts and main.test.ts.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import sharp from 'sharp';
import request from 'supertest';
import { assertError, rawPost, startRealApp, type RealServer } from './helpers.ts';
import { BOUNDARY, fieldPart, filePart, headerOnlyPng, multipart, orientedJpeg, solidPng, truncated } from './fixtures.ts';

let server: RealServer;
before(async () => {
  server = await startRealApp({ channels: 1, height: 8, width: 8, kind: 'identity' }, { MAX_UPLOADS: '64', MAX_INPUT_PIXELS: '1000000' });
});
after(async () => {
  await server.close();
});

const app = (): RealServer['handle']['app'] => server.handle.app;
const postJson = (raw: string | Buffer, headers: Record<string, string> = { 'Content-Type': 'application/json' }): request.Test =>
  request(app()).post('/generate').set(headers).send(raw);
const project = (body: Buffer, type = `multipart/form-data; boundary=${BOUNDARY}`, query = ''): request.Test =>
  request(app()).post(`/project${query}`).set('Content-Type', type).set('Accept', 'application/json').send(body);
const upload = (bytes: Buffer, name = 'image'): request.Test => project(multipart([filePart(name, bytes)]));

void test('#1 empty body without Content-Type → 415', async () => {
  assertError(await request(app()).post('/generate'), 415, 'unsupported_media_type');
});

void test('#2 text/plain → 415', async () => {
  assertError(await postJson('{"count":1}', { 'Content-Type': 'text/plain' }), 415, 'unsupported_media_type');
});

void test('#3 malformed JSON → 400 malformed_json', async () => {
  assertError(await postJson('{"count": 1'), 400, 'malformed_json');
});

void test('#4 JSON over 4 kB → 413 body_too_large', async () => {
  assertError(await postJson(JSON.stringify({ pad: 'x'.repeat(5000) })), 413, 'body_too_large');
});

void test('#5 gzip that inflates far past the limit → 413', async () => {
  const bomb = gzipSync(Buffer.from(`{"a":"${' '.repeat(5_000_000)}"}`));
  assert.ok(bomb.length < 10_000);
  assertError(
    await rawPost(app(), '/generate', { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' }, bomb),
    413,
    'body_too_large',
  );
});

void test('#6 top-level array or string → 400 invalid_body', async () => {
  assertError(await postJson('[1,2]'), 400, 'invalid_body');
  assertError(await postJson('"x"'), 400, 'invalid_body');
});

void test('#7 __proto__ key → 400 unknown_field; any unknown key too', async () => {
  assertError(await postJson('{"__proto__": {"polluted": true}}'), 400, 'unknown_field');
  assertError(await postJson('{"count": 1, "colour": "red"}'), 400, 'unknown_field');
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

void test('#8 count and steps: negative, 0, string, fraction, 1e400, huge → 400', async () => {
  for (const bad of ['-1', '0', '"4"', '1.5', '1e400', '1000000']) {
    assertError(await postJson(`{"count": ${bad}}`), 400, 'invalid_count');
    assertError(await postJson(`{"steps": ${bad}}`), 400, 'invalid_steps');
  }
});

void test('#9 seed non-integer, negative or beyond 2^32-1 → 400 invalid_seed', async () => {
  for (const bad of ['1.5', '-1', '4294967296', '9007199254740993', '"7"']) {
    assertError(await postJson(`{"seed": ${bad}}`), 400, 'invalid_seed');
  }
});

void test('#10 utf-16 charset → 415, unknown encoding → 415, corrupt gzip → 400', async () => {
  assertError(await postJson('{}', { 'Content-Type': 'application/json; charset=utf-16' }), 415, 'unsupported_charset');
  assertError(await postJson('{}', { 'Content-Type': 'application/json', 'Content-Encoding': 'x-unknown' }), 415, 'unsupported_encoding');
  const corrupt = gzipSync(Buffer.from('{"count":1}')).subarray(0, 12);
  assertError(
    await rawPost(app(), '/generate', { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' }, corrupt),
    400,
    'invalid_body',
  );
});

void test('#11 /project without a file → 400 missing_file', async () => {
  assertError(await project(Buffer.from(`--${BOUNDARY}--\r\n`)), 400, 'missing_file');
});

void test('#12 wrong field name → unexpected_file; two files → too_many_files', async () => {
  const png = await solidPng(4, 4);
  assertError(await upload(png, 'picture'), 400, 'unexpected_file');
  assertError(await project(multipart([filePart('image', png), filePart('image', png)])), 400, 'too_many_files');
});

void test('#13 zero-byte file → 400 empty_file (multipart and raw)', async () => {
  assertError(await upload(Buffer.alloc(0)), 400, 'empty_file');
  assertError(await project(Buffer.alloc(0), 'image/png'), 400, 'empty_file');
});

void test('#14 truncated PNG and JPEG → 422 every time, even 40 at once', async () => {
  const bodies = [await truncated('png'), await truncated('jpeg')];
  const results = await Promise.all(Array.from({ length: 40 }, (_, i) => upload(bodies[i % 2]!)));
  for (const res of results) assertError(res, 422, 'undecodable_image');
});

void test('#15 non-image bytes named .png → 415 unsupported_image_type', async () => {
  assertError(await upload(Buffer.from('definitely not an image, just text')), 415, 'unsupported_image_type');
});

void test('#16 GIF and TIFF → 415', async () => {
  const base = sharp({ create: { width: 4, height: 4, channels: 3, background: '#fff' } });
  assertError(await upload(await base.clone().gif().toBuffer()), 415, 'unsupported_image_type');
  assertError(await upload(await base.clone().tiff().toBuffer()), 415, 'unsupported_image_type');
});

void test('#17 16-bit PNG and CMYK JPEG → 200', async () => {
  const sixteen = await sharp({ create: { width: 6, height: 6, channels: 3, background: '#808080' } })
    .toColourspace('rgb16')
    .png()
    .toBuffer();
  assert.equal((await sharp(sixteen).metadata()).depth, 'ushort');
  const cmyk = await sharp({ create: { width: 6, height: 6, channels: 3, background: '#336699' } })
    .toColourspace('cmyk')
    .jpeg()
    .toBuffer();
  assert.equal((await sharp(cmyk).metadata()).space, 'cmyk');
  for (const bytes of [sixteen, cmyk]) assert.equal((await upload(bytes)).status, 200);
});

void test('#18 alpha channel → 200 with the model channel count', async () => {
  const res = await upload(await solidPng(10, 10, 4));
  assert.equal(res.status, 200);
  const input = Buffer.from((res.body as { input: string }).input, 'base64');
  assert.equal((await sharp(input).metadata()).channels, 1);
});

void test('#19 huge dimensions → 413 image_too_large from the header alone', async () => {
  // The 50,000² PNG is a header without pixel data: decoding it would fail as a bad image, so
  // image_too_large shows the size was judged from the header, before any pixel was read.
  assertError(await upload(headerOnlyPng(50_000, 50_000)), 413, 'image_too_large');
  assertError(await upload(await solidPng(1001, 1000)), 413, 'image_too_large');
  assert.equal((await request(app()).get('/healthz')).status, 200);
});

void test('#20 SVG (with an external entity) → 415', async () => {
  const svg = Buffer.from(
    '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]><svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><text>&x;</text></svg>',
  );
  assertError(await upload(svg), 415, 'unsupported_image_type');
  assertError(await project(svg, 'image/svg+xml'), 415, 'unsupported_media_type');
});

void test('#21 EXIF orientation 6 is applied before resize and crop', async () => {
  const res = await upload(await orientedJpeg());
  assert.equal(res.status, 200);
  const { data } = await sharp(Buffer.from((res.body as { input: string }).input, 'base64'))
    .toColourspace('b-w')
    .raw()
    .toBuffer({ resolveWithObject: true });
  // Displayed upright the image is 8 wide × 16 tall, white on top: after the centre crop the top
  // rows are white and the bottom rows black. Unrotated, the left columns would be white instead.
  assert.ok(data[0]! > 200, `top-left ${data[0]}`);
  assert.ok(data[7]! > 200, `top-right ${data[7]}`);
  assert.ok(data[7 * 8]! < 50, `bottom-left ${data[7 * 8]}`);
});

void test('#22 multer field names a[4294967294] + a[x] → 400 fast, /healthz answers right after', async () => {
  // A parser that built a[4294967294] as an array would allocate gigabytes: the heap must not grow.
  const heapBefore = process.memoryUsage().heapUsed;
  const res = await project(multipart([fieldPart('a[4294967294]', '1'), fieldPart('a[x]', '2')]));
  assertError(res, 400, 'malformed_multipart');
  assert.equal((await request(app()).get('/healthz')).status, 200);
  const grownMb = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
  assert.ok(grownMb < 64, `heap grew ${grownMb.toFixed(1)} MB`);
});

void test('#23 empty field name, truncated form, missing boundary → 400 malformed_multipart', async () => {
  assertError(await project(multipart([['Content-Disposition: form-data; name=""', 'x']])), 400, 'malformed_multipart');
  assertError(await project(multipart([filePart('image', await solidPng(4, 4))], false)), 400, 'malformed_multipart');
  assertError(await project(Buffer.from('garbage'), 'multipart/form-data'), 400, 'malformed_multipart');
});

void test('query parameters of /project are validated without coercion', async () => {
  const png = await solidPng(4, 4);
  assertError(await project(multipart([filePart('image', png)]), undefined, '?steps=1.5'), 400, 'invalid_steps');
  assertError(await project(multipart([filePart('image', png)]), undefined, '?steps=0'), 400, 'invalid_steps');
  assertError(await project(multipart([filePart('image', png)]), undefined, '?seed=-1'), 400, 'invalid_seed');
  assertError(await project(multipart([filePart('image', png)]), undefined, '?corrupt=blur'), 400, 'invalid_corruption');
  assertError(await project(multipart([filePart('image', png)]), undefined, '?extra=1'), 400, 'unknown_field');
});

void test('Accept that allows neither PNG nor JSON → 406', async () => {
  assertError(await request(app()).post('/generate').set('Accept', 'text/html').send({}), 406, 'not_acceptable');
});

void test('error bodies stay clean with NODE_ENV unset (no stack, JSON content type)', async () => {
  const saved = process.env.NODE_ENV;
  delete process.env.NODE_ENV;
  try {
    const res = await postJson('{bad');
    assert.match(res.headers['content-type'] ?? '', /application\/json/);
    assertError(res, 400, 'malformed_json');
  } finally {
    if (saved !== undefined) process.env.NODE_ENV = saved;
  }
});
