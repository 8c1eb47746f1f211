// SPDX-License-Identifier: MIT
/**
 * A model repository with two real models (the tiny 1×8×8 test model and the bundled MNIST f), a
 * folder without a card, a broken card and a model whose ONNX file is garbage, started the way
 * main.ts starts it: every route with two models, the index, defaults, per-model metrics.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp, { type Metadata } from 'sharp';
import request from 'supertest';
import { createApp, type IgnApp } from '../../server/app.ts';
import { StartupError, startRepository, type StartedRepository } from '../../server/model-repository.ts';
import { writeTinyModelDir } from '../support/tiny-model.ts';
import { assertError, assertSchema, SlowGenerator, silentLogger, testConfig } from './helpers.ts';
import { loadModelCard } from '../../common/model-card.ts';

let root: string;
let started: StartedRepository;
let handle: IgnApp;
const noHooks = () => ({});

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'ign-repo-'));
  await writeTinyModelDir(join(root, 'tiny'), { channels: 1, height: 8, width: 8 });
  await symlink(resolve('models/mnist'), join(root, 'mnist'));
  await mkdir(join(root, 'notes'));
  await writeFile(join(root, 'notes', 'README'), 'not a model\n');
  await mkdir(join(root, 'broken'));
  await writeFile(join(root, 'broken', 'model.json'), '{"schemaVersion": 1}');
  await writeTinyModelDir(join(root, 'garbage'), { channels: 1, height: 8, width: 8 }, 'garbage');
  await writeFile(join(root, 'garbage', 'model.onnx'), 'not onnx');
  const config = testConfig({ MODEL_REPOSITORY: root });
  started = await startRepository(config, silentLogger, noHooks);
  handle = createApp({ config, models: started.models, unavailable: started.unavailable, logger: silentLogger });
});
after(async () => {
  await Promise.all(started.models.map((m) => m.generator.close()));
  await rm(root, { recursive: true, force: true });
});

const app = (): IgnApp['app'] => handle.app;

void test('GET and POST /v2/repository/index list every model with its state; a folder without model.json is skipped', async () => {
  const res = await request(app()).get('/v2/repository/index');
  assert.equal(res.status, 200);
  assertSchema('RepositoryIndex', res.body);
  const rows = res.body as { name: string; version: string; state: string; reason: string }[];
  assert.deepEqual(
    rows.map((r) => [r.name, r.state]),
    [
      ['broken', 'UNAVAILABLE'],
      ['garbage', 'UNAVAILABLE'],
      ['mnist', 'READY'],
      ['tiny', 'READY'],
    ],
  );
  assert.match(rows[0]!.reason, /model\.json/);
  assert.match(rows[1]!.reason, /failed to load/);
  const ready = await request(app()).post('/v2/repository/index').send({ ready: true });
  assert.deepEqual(
    (ready.body as { name: string }[]).map((r) => r.name),
    ['mnist', 'tiny'],
  );
  // The server is ready: a model that failed at boot is reported, not awaited.
  assert.equal((await request(app()).get('/readyz')).status, 200);
});

void test('/generate serves the default (mnist) and the named model; unknown and unavailable names are 404 and 503', async () => {
  const png = async (body: object): Promise<Metadata> => {
    const res = await request(app()).post('/generate').set('Accept', 'image/png').send(body).buffer(true);
    assert.equal(res.status, 200, res.text);
    return sharp(res.body as Buffer).metadata();
  };
  assert.deepEqual([(await png({ seed: 1 })).width, (await png({ seed: 1, model: 'tiny' })).width], [28, 8]);
  const json = await request(app()).post('/generate').set('Accept', 'application/json').send({ seed: 1, model: 'tiny' });
  assertSchema('GenerateResponse', json.body);
  assert.deepEqual((json.body as { model: unknown }).model, { name: 'tiny', version: '1' });
  const gen = (body: object) => request(app()).post('/generate').set('Accept', 'application/json').send(body);
  const missing = await gen({ model: 'nope' });
  assertError(missing, 404, 'model_not_found');
  assert.match((missing.body as { error: { message: string } }).error.message, /served: mnist, tiny/);
  const broken = await gen({ model: 'garbage' });
  assertError(broken, 503, 'model_unavailable');
  assert.match((broken.body as { error: { message: string } }).error.message, /failed to load/);
  assertError(await gen({ model: '../etc/passwd' }), 400, 'invalid_body');
});

void test('/project takes model as a form field or query parameter; an unknown model is refused before the upload is read', async () => {
  // A light vertical stroke on black: content for normalize=auto.
  const pixels = Buffer.alloc(28 * 28);
  for (let y = 6; y < 22; y++) for (let x = 12; x < 16; x++) pixels[y * 28 + x] = 255;
  const image = await sharp(pixels, { raw: { width: 28, height: 28, channels: 1 } })
    .png()
    .toBuffer();
  const res = await request(app())
    .post('/project')
    .set('Accept', 'application/json')
    .field('model', 'tiny')
    .field('normalize', 'none')
    .attach('image', image, 'x.png');
  assert.equal(res.status, 200, res.text);
  assertSchema('ProjectResponse', res.body);
  assert.deepEqual((res.body as { model: unknown }).model, { name: 'tiny', version: '1' });
  const query = await request(app()).post('/project?model=mnist').set('Accept', 'application/json').attach('image', image, 'x.png');
  assert.equal(query.status, 200, query.text);
  assert.equal((query.body as { model: { name: string } }).model.name, 'mnist');
  assertError(await request(app()).post('/project?model=nope').attach('image', image, 'x.png'), 404, 'model_not_found');
  assertError(await request(app()).post('/project').field('model', 'a/b').attach('image', image, 'x.png'), 400, 'invalid_model');
});

void test('OIP metadata, versions and readiness per model', async () => {
  for (const [name, side] of [
    ['tiny', 8],
    ['mnist', 28],
  ] as const) {
    for (const path of [`/v2/models/${name}`, `/v2/models/${name}/versions/1`]) {
      const res = await request(app()).get(path);
      assert.equal(res.status, 200, `${path}: ${res.text}`);
      assertSchema('OipModelMetadata', res.body);
      const body = res.body as { name: string; inputs: { name: string; shape: number[] }[]; platform: string };
      assert.equal(body.name, name);
      assert.deepEqual(body.inputs[0], { name: 'x', datatype: 'FP32', shape: [-1, 1, side, side] });
    }
    const ready = await request(app()).get(`/v2/models/${name}/versions/1/ready`);
    assert.deepEqual([ready.status, ready.body], [200, { name, ready: true }]);
  }
  const wrongVersion = await request(app()).get('/v2/models/tiny/versions/7');
  assert.equal(wrongVersion.status, 404);
  assertSchema('OipError', wrongVersion.body);
  const unavailable = await request(app()).get('/v2/models/garbage/ready');
  assert.equal(unavailable.status, 503);
  assertSchema('OipError', unavailable.body);
  assert.equal((await request(app()).get('/v2/models/nope')).status, 404);
});

void test('v2 infer runs the named model: tiny computes tanh(0.8x + 0.1) per step, mnist answers its own shape', async () => {
  const x = Array.from({ length: 2 * 64 }, (_, i) => ((i % 17) - 8) / 8);
  const res = await request(app())
    .post('/v2/models/tiny/versions/1/infer')
    .send({ id: 'r1', parameters: { steps: 2 }, inputs: [{ name: 'x', shape: [2, 1, 8, 8], datatype: 'FP32', data: x }] });
  assert.equal(res.status, 200, res.text);
  assertSchema('OipInferResponse', res.body);
  const body = res.body as { model_name: string; model_version: string; id: string; outputs: { shape: number[]; data: number[] }[] };
  assert.deepEqual([body.model_name, body.model_version, body.id, body.outputs[0]!.shape], ['tiny', '1', 'r1', [2, 1, 8, 8]]);
  const f = (v: number): number => Math.tanh(0.8 * v + 0.1);
  body.outputs[0]!.data.forEach((y, i) => {
    assert.ok(Math.abs(y - f(f(x[i]!))) < 1e-5, `element ${i}`);
  });
  const mnist = await request(app())
    .post('/v2/models/mnist/infer')
    .send({ inputs: [{ name: 'x', shape: [1, 1, 28, 28], datatype: 'FP32', data: new Array<number>(784).fill(-1) }] });
  assert.equal(mnist.status, 200, mnist.text);
  const out = (mnist.body as { outputs: { data: number[] }[] }).outputs[0]!.data;
  assert.equal(out.length, 784);
  assert.ok(out.every((v) => Number.isFinite(v) && v >= -1.01 && v <= 1.01));
});

void test('metrics carry the model label for each model that worked', async () => {
  await request(app()).post('/generate').send({ seed: 2, model: 'tiny' });
  await request(app()).post('/generate').send({ seed: 2 });
  const text = (await request(app()).get('/metrics')).text;
  assert.match(text, /^ign_images_generated_total\{model="tiny"\} [1-9]/m);
  assert.match(text, /^ign_images_generated_total\{model="mnist"\} [1-9]/m);
  assert.match(text, /^ign_batch_size_bucket\{le="1",model="tiny"\}/m);
  assert.doesNotMatch(text, /model="nope"|model="garbage"/, 'only served models become label values');
});

void test('STRICT_MODELS=1 stops the boot at a bad model; an empty repository fails; MODEL_DIR serves one model', async () => {
  await assert.rejects(startRepository(testConfig({ MODEL_REPOSITORY: root, STRICT_MODELS: '1' }), silentLogger, noHooks), (err) => {
    return err instanceof StartupError && /broken/.test(err.message);
  });
  const empty = await mkdtemp(join(tmpdir(), 'ign-empty-repo-'));
  try {
    await assert.rejects(
      startRepository(testConfig({ MODEL_REPOSITORY: empty }), silentLogger, noHooks),
      /no model could be served|no folder/,
    );
  } finally {
    await rm(empty, { recursive: true, force: true });
  }
  const one = await startRepository(testConfig({ MODEL_DIR: join(root, 'tiny') }), silentLogger, noHooks);
  try {
    assert.deepEqual(
      one.models.map((m) => m.model.card.name),
      ['tiny'],
    );
  } finally {
    await Promise.all(one.models.map((m) => m.generator.close()));
  }
});

void test('default model: MODEL_NAME, else mnist, else the only one; with several and none named, requests must name one', async () => {
  const a = await loadModelCard(join(root, 'tiny'));
  const b = { ...a, card: { ...a.card, name: 'tiny2' } };
  const two = (env: Record<string, string> = {}) =>
    createApp({
      config: testConfig(env),
      models: [
        { model: a, generator: new SlowGenerator(1) },
        { model: b, generator: new SlowGenerator(1) },
      ],
      logger: silentLogger,
    });
  const none = two();
  assertError(await request(none.app).post('/generate').set('Accept', 'application/json').send({}), 400, 'model_required');
  // /project names its model in a form field: it is read with the fields, not required up front.
  const image = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#404040' } })
    .png()
    .toBuffer();
  const form = await request(none.app)
    .post('/project')
    .set('Accept', 'application/json')
    .field('model', 'tiny2')
    .attach('image', image, 'x.png');
  assert.equal(form.status, 200, form.text);
  assert.equal((form.body as { model: { name: string } }).model.name, 'tiny2');
  assertError(await request(none.app).post('/project').attach('image', image, 'x.png'), 400, 'model_required');
  const named = two({ MODEL_NAME: 'tiny2' });
  const res = await request(named.app).post('/generate').set('Accept', 'application/json').send({ seed: 1 });
  assert.equal((res.body as { model: { name: string } }).model.name, 'tiny2');
  assert.throws(() => two({ MODEL_NAME: 'mnist' }), /MODEL_NAME "mnist" is not among the served models/);
  assert.throws(
    () =>
      createApp({
        config: testConfig(),
        models: [
          { model: a, generator: new SlowGenerator(1) },
          { model: a, generator: new SlowGenerator(1) },
        ],
        logger: silentLogger,
      }),
    /two models are named "tiny"/,
  );
});
