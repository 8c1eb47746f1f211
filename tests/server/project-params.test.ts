// SPDX-License-Identifier: MIT
// /project parameters as multipart text fields or query parameters (curl -F, HTML forms), against
// the real app: one table, the same validation in both places, unknown or doubled names refused.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { assertError, startRealApp, type RealServer } from './helpers.ts';
import { BOUNDARY, fieldPart, filePart, multipart, solidPng } from './fixtures.ts';

let server: RealServer;
let png: Buffer;
before(async () => {
  server = await startRealApp({ channels: 1, height: 8, width: 8 }, { MAX_STEPS: '5' });
  png = await solidPng(8, 8);
});
after(async () => {
  await server.close();
});

const form = (fields: Record<string, string>, query = ''): request.Test => {
  let req = request(server.handle.app).post(`/project${query}`).set('Accept', 'application/json').attach('image', png, 'digit.png');
  for (const [name, value] of Object.entries(fields)) req = req.field(name, value);
  return req;
};

interface ProjectJson {
  steps: number;
  stepImages: string[];
  residuals: number[];
  corruption?: { kind: string; seed: number };
}

void test('steps, seed and corrupt as form fields (curl -F style) are used, in any order around the file', async () => {
  const res = await form({ steps: '3', seed: '9', corrupt: 'mask' });
  assert.equal(res.status, 200, res.text);
  const body = res.body as ProjectJson;
  assert.equal(body.steps, 3);
  assert.equal(body.stepImages.length, 3);
  assert.deepEqual(body.corruption, { kind: 'mask', seed: 9 });
  // Fields before the file part: the same answer.
  const before = multipart([fieldPart('steps', '3'), fieldPart('seed', '9'), fieldPart('corrupt', 'mask'), filePart('image', png)]);
  const res2 = await request(server.handle.app)
    .post('/project')
    .set('Content-Type', `multipart/form-data; boundary=${BOUNDARY}`)
    .set('Accept', 'application/json')
    .send(before);
  assert.equal(res2.status, 200, res2.text);
  assert.deepEqual((res2.body as ProjectJson).residuals, body.residuals);
});

void test('the same parameters in the query string give the same result as form fields', async () => {
  const viaForm = (await form({ steps: '2', seed: '4', corrupt: 'noise' })).body as ProjectJson;
  const viaQuery = (await form({}, '?steps=2&seed=4&corrupt=noise')).body as ProjectJson;
  assert.deepEqual(viaQuery.residuals, viaForm.residuals);
  // Split between the two places is fine as long as no name is in both.
  const split = (await form({ steps: '2' }, '?seed=4&corrupt=noise')).body as ProjectJson;
  assert.deepEqual(split.residuals, viaForm.residuals);
});

void test('form-field values are validated exactly like query values', async () => {
  for (const bad of ['1.5', '0', '6', '-1', '0x2', ' 2', '']) assertError(await form({ steps: bad }), 400, 'invalid_steps');
  for (const bad of ['-1', '4294967296', '1e3']) assertError(await form({ seed: bad }), 400, 'invalid_seed');
  assertError(await form({ corrupt: 'blur' }), 400, 'invalid_corruption');
  assertError(await form({ normalize: 'always' }), 400, 'invalid_normalize');
  assertError(await form({}, '?normalize=sometimes'), 400, 'invalid_normalize');
  assert.equal((await form({ normalize: 'none' })).status, 200);
  // A repeated field is not silently resolved to one of its values.
  const twice = multipart([filePart('image', png), fieldPart('steps', '2'), fieldPart('steps', '3')]);
  assertError(
    await request(server.handle.app).post('/project').set('Content-Type', `multipart/form-data; boundary=${BOUNDARY}`).send(twice),
    400,
    'invalid_steps',
  );
});

void test('an unknown field is a 400 naming it; the same parameter in both places is a 400', async () => {
  const unknown = await form({ colour: 'red' });
  assertError(unknown, 400, 'unknown_field');
  assert.match((unknown.body as { error: { message: string } }).error.message, /form field "colour"/);
  const unknownQuery = await form({}, '?colour=red');
  assertError(unknownQuery, 400, 'unknown_field');
  assert.match((unknownQuery.body as { error: { message: string } }).error.message, /query parameter "colour"/);
  const both = await form({ steps: '2' }, '?steps=2');
  assertError(both, 400, 'duplicate_parameter');
  assert.match((both.body as { error: { message: string } }).error.message, /"steps"/);
});

void test('the multipart limits stay closed: bracketed names, too many fields, long values', async () => {
  const send = (parts: [string, string | Buffer][]): request.Test =>
    request(server.handle.app).post('/project').set('Content-Type', `multipart/form-data; boundary=${BOUNDARY}`).send(multipart(parts));
  assertError(await send([filePart('image', png), fieldPart('steps[0]', '2')]), 400, 'malformed_multipart');
  assertError(await send([filePart('image', png), fieldPart('a[b][c]', '2')]), 400, 'malformed_multipart');
  const many = Array.from({ length: 12 }, (_, i) => fieldPart(`f${i}`, '1'));
  assertError(await send([filePart('image', png), ...many]), 400, 'too_many_fields');
  assertError(await send([filePart('image', png), fieldPart('corrupt', 'x'.repeat(10_000))]), 400, 'field_too_long');
  assertError(await send([filePart('image', png), fieldPart('x'.repeat(200), '1')]), 400, 'malformed_multipart');
});

void test('a multipart type multer does not recognise (empty boundary) is a 4xx, not a 500', async () => {
  const res = await request(server.handle.app).post('/project').set('Content-Type', 'multipart/form-data; boundary=').send(Buffer.alloc(0));
  assertError(res, 400, 'missing_file');
});
