// SPDX-License-Identifier: MIT
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import request from 'supertest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../../server/app.ts';
import { assertError, assertSchema, silentLogger, startRealApp, type RealServer } from './helpers.ts';

let server: RealServer;
before(async () => {
  server = await startRealApp({ channels: 1, height: 8, width: 8 });
});
after(async () => {
  await server.close();
});

const app = (): RealServer['handle']['app'] => server.handle.app;
const binary = (res: request.Response, cb: (err: Error | null, body: Buffer) => void): void => {
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('end', () => {
    cb(null, Buffer.concat(chunks));
  });
};
const generate = (body: object, accept = 'image/png'): request.Test => {
  const req = request(app()).post('/generate').set('Accept', accept).send(body);
  return accept === 'image/png' ? req.buffer(true).parse(binary) : req;
};

void test('POST /generate returns one grey 8×8 PNG, and a grid for count > 1', async () => {
  const one = await generate({ count: 1, steps: 2, seed: 3 });
  assert.equal(one.status, 200);
  assert.equal(one.headers['content-type'], 'image/png');
  assert.equal(one.headers['x-seed'], '3');
  const meta = await sharp(one.body as Buffer).metadata();
  assert.deepEqual([meta.width, meta.height, meta.channels], [8, 8, 1]);
  const grid = await generate({ count: 5, steps: 1, seed: 3 });
  const gridMeta = await sharp(grid.body as Buffer).metadata();
  // 5 images → 3 columns × 2 rows with 2 px gutters.
  assert.deepEqual([gridMeta.width, gridMeta.height], [3 * 8 + 2 * 2, 2 * 8 + 2]);
});

void test('the same seed gives identical bytes; another seed differs', async () => {
  const a = await generate({ count: 2, steps: 3, seed: 42 });
  const b = await generate({ count: 2, steps: 3, seed: 42 });
  const c = await generate({ count: 2, steps: 3, seed: 43 });
  assert.ok((a.body as Buffer).equals(b.body as Buffer));
  assert.ok(!(a.body as Buffer).equals(c.body as Buffer));
});

void test('JSON /generate: per-image PNG, per-step PNGs and shrinking idempotence residuals', async () => {
  const res = await generate({ count: 2, steps: 4, seed: 9, returnSteps: true }, 'application/json');
  assert.equal(res.status, 200);
  assertSchema('GenerateResponse', res.body);
  const body = res.body as { images: { png: string; steps: string[]; residuals: number[]; residual: number }[]; provider: string };
  assert.equal(body.provider, 'cpu');
  assert.equal(body.images.length, 2);
  for (const image of body.images) {
    assert.equal(image.steps.length, 4);
    assert.equal(image.steps[3], image.png);
    assert.equal(image.residual, image.residuals[3]);
    // tanh(0.8x + 0.1) is a contraction: every step moves less than the one before.
    for (let i = 1; i < 4; i++) assert.ok(image.residuals[i]! < image.residuals[i - 1]!, JSON.stringify(image.residuals));
  }
  // Image 0 of a count-2 request is the image of a count-1 request with the same seed.
  const single = await generate({ count: 1, steps: 4, seed: 9 }, 'application/json');
  assert.equal((single.body as typeof body).images[0]!.png, body.images[0]!.png);
});

void test('interpolate applies f along the line between two seeded noises', async () => {
  const res = await generate({ steps: 1, interpolate: { from: 1, to: 2, points: 3 } }, 'application/json');
  assert.equal(res.status, 200);
  assertSchema('GenerateResponse', res.body);
  const images = (res.body as { images: { png: string }[] }).images;
  const end0 = (await generate({ count: 1, steps: 1, seed: 1 }, 'application/json')).body as { images: { png: string }[] };
  const end1 = (await generate({ count: 1, steps: 1, seed: 2 }, 'application/json')).body as { images: { png: string }[] };
  assert.equal(images[0]!.png, end0.images[0]!.png);
  assert.equal(images[2]!.png, end1.images[0]!.png);
  assert.notEqual(images[1]!.png, images[0]!.png);
});

void test('without a noise field /generate samples the noise kind of the model card', async () => {
  const fourier = await startRealApp({ channels: 1, height: 8, width: 8, noise: 'fourier' });
  try {
    const post = (body: object): request.Test => request(fourier.handle.app).post('/generate').set('Accept', 'application/json').send(body);
    const byDefault = await post({ seed: 5 });
    assert.equal(byDefault.status, 200);
    assert.equal((byDefault.body as { noise: string }).noise, 'fourier');
    const explicit = await post({ seed: 5, noise: 'fourier' });
    assert.equal(
      (explicit.body as { images: { png: string }[] }).images[0]!.png,
      (byDefault.body as { images: { png: string }[] }).images[0]!.png,
    );
    const gaussian = await post({ seed: 5, noise: 'gaussian' });
    assert.equal((gaussian.body as { noise: string }).noise, 'gaussian');
    assert.notEqual(
      (gaussian.body as { images: { png: string }[] }).images[0]!.png,
      (byDefault.body as { images: { png: string }[] }).images[0]!.png,
    );
  } finally {
    await fourier.close();
  }
  const plain = await generate({ seed: 5 }, 'application/json');
  assert.equal((plain.body as { noise: string }).noise, 'gaussian', 'a Gaussian card keeps Gaussian noise');
});

void test('fourier, covariance and fourier-mixture noise are refused for a model card without their statistics', async () => {
  assertError(await generate({ noise: 'fourier' }, 'application/json'), 400, 'invalid_noise');
  assertError(await generate({ noise: 'covariance' }, 'application/json'), 400, 'invalid_noise');
  assertError(await generate({ noise: 'fourier-mixture' }, 'application/json'), 400, 'invalid_noise');
});

void test('a covariance-noise card: /generate draws N(μ, Σ) by default, Gaussian on request, and refuses fourier', async () => {
  const covariance = await startRealApp({ channels: 1, height: 8, width: 8, noise: 'covariance' });
  try {
    const post = (body: object): request.Test =>
      request(covariance.handle.app).post('/generate').set('Accept', 'application/json').send(body);
    const byDefault = await post({ seed: 5 });
    assert.equal(byDefault.status, 200);
    assertSchema('GenerateResponse', byDefault.body);
    assert.equal((byDefault.body as { noise: string }).noise, 'covariance');
    const gaussian = await post({ seed: 5, noise: 'gaussian' });
    assert.equal(gaussian.status, 200);
    assert.notEqual(
      (gaussian.body as { images: { png: string }[] }).images[0]!.png,
      (byDefault.body as { images: { png: string }[] }).images[0]!.png,
    );
    const refused = await post({ seed: 5, noise: 'fourier' });
    assertError(refused, 400, 'invalid_noise');
    assert.match(
      (refused.body as { error: { message: string } }).error.message,
      /no fourier noise statistics; use "gaussian" or "covariance"/,
    );
  } finally {
    await covariance.close();
  }
});

void test('a fourier-mixture card: /generate draws from its components by default and refuses covariance', async () => {
  const mixture = await startRealApp({ channels: 1, height: 8, width: 8, noise: 'fourier-mixture' });
  try {
    const post = (body: object): request.Test => request(mixture.handle.app).post('/generate').set('Accept', 'application/json').send(body);
    const byDefault = await post({ seed: 5, count: 4 });
    assert.equal(byDefault.status, 200);
    assertSchema('GenerateResponse', byDefault.body);
    assert.equal((byDefault.body as { noise: string }).noise, 'fourier-mixture');
    const again = await post({ seed: 5, count: 4 });
    const images = (r: request.Response): unknown => (r.body as { images: unknown }).images;
    assert.deepEqual(images(again), images(byDefault), 'the same seed draws the same noise');
    const refused = await post({ seed: 5, noise: 'covariance' });
    assertError(refused, 400, 'invalid_noise');
    assert.match((refused.body as { error: { message: string } }).error.message, /use "gaussian" or "fourier-mixture"/);
  } finally {
    await mixture.close();
  }
});

void test('POST /project accepts multipart or a raw body, returns f^k(x) and δ(x) as OOD score', async () => {
  const input = await sharp({ create: { width: 20, height: 12, channels: 3, background: '#ff8000' } })
    .png()
    .toBuffer();
  const png = await request(app()).post('/project?steps=2').attach('image', input, 'x.png').buffer(true).parse(binary);
  assert.equal(png.status, 200);
  assert.deepEqual([(await sharp(png.body as Buffer).metadata()).width, (await sharp(png.body as Buffer).metadata()).height], [8, 8]);
  const json = await request(app())
    .post('/project?steps=3&corrupt=mask&seed=5')
    .set('Accept', 'application/json')
    .set('Content-Type', 'image/png')
    .send(input);
  assert.equal(json.status, 200, json.text);
  assertSchema('ProjectResponse', json.body);
  const body = json.body as { stepImages: string[]; residuals: number[]; oodScore: number; corruption: { kind: string } };
  assert.equal(body.stepImages.length, 3);
  assert.equal(body.oodScore, body.residuals[0]);
  assert.ok(body.oodScore > 0);
  assert.equal(body.corruption.kind, 'mask');
});

void test('health, readiness and Open Inference Protocol routes', async () => {
  assert.deepEqual((await request(app()).get('/healthz')).body, { status: 'ok' });
  const ready = await request(app()).get('/readyz');
  assert.equal(ready.status, 200);
  assertSchema('Health', ready.body);
  assert.deepEqual((await request(app()).get('/v2/health/live')).body, { live: true });
  assert.deepEqual((await request(app()).get('/v2/health/ready')).body, { ready: true });
  const meta = await request(app()).get('/v2');
  assertSchema('OipServerMetadata', meta.body);
  const model = await request(app()).get('/v2/models/tiny');
  assertSchema('OipModelMetadata', model.body);
  assert.deepEqual((model.body as { inputs: { shape: number[] }[] }).inputs[0]!.shape, [-1, 1, 8, 8]);
  assert.equal((model.body as { parameters: { execution_provider: string } }).parameters.execution_provider, 'cpu');
  assert.equal((await request(app()).get('/v2/models/tiny/ready')).status, 200);
  const missing = await request(app()).get('/v2/models/other');
  assert.equal(missing.status, 404);
  assertSchema('OipError', missing.body);
});

void test('readiness flips to 503 while draining and new work is refused with shutting_down', async () => {
  server.handle.lifecycle.draining = true;
  try {
    assert.equal((await request(app()).get('/readyz')).status, 503);
    assert.equal((await request(app()).get('/v2/health/ready')).status, 503);
    assert.equal((await request(app()).get('/healthz')).status, 200);
    assertError(await generate({}, 'application/json'), 503, 'shutting_down');
  } finally {
    server.handle.lifecycle.draining = false;
  }
});

void test('GET /metrics exposes the documented metric set with bounded labels', async () => {
  await generate({ count: 1, steps: 1, seed: 1 });
  await request(app()).get('/no/such/path/12345');
  const res = await request(app()).get('/metrics');
  assert.equal(res.status, 200);
  assert.match(res.headers['content-type'] ?? '', /text\/plain/);
  for (const name of [
    'ign_requests_total',
    'ign_request_duration_seconds_bucket',
    'ign_queue_duration_seconds_bucket',
    'ign_inference_duration_seconds_bucket',
    'ign_batch_size_bucket',
    'ign_queue_depth',
    'ign_inflight_requests',
    'ign_images_generated_total',
    'ign_refinement_steps_total',
    'ign_ep_fallback_total',
    'ign_worker_restarts_total',
    'ign_model_info',
    'ign_idempotence_residual_bucket',
  ])
    assert.match(res.text, new RegExp(`^${name}`, 'm'), name);
  assert.match(res.text, /ign_model_info\{model="tiny",version="1",ep="cpu",ort_version="1\.30\.0"\} 1/);
  assert.match(res.text, /ign_requests_total\{route="\/generate",code="200"\}/);
  assert.doesNotMatch(res.text, /no\/such\/path/, 'raw paths never become label values');
  assert.doesNotMatch(res.text, /^process_cpu/m, 'default metrics belong to main.ts only');
});

void test('GET /openapi.yaml serves the contract; unknown routes get the JSON 404', async () => {
  const res = await request(app()).get('/openapi.yaml');
  assert.equal(res.status, 200);
  assert.match(res.text, /^openapi: 3\.1/);
  assertError(await request(app()).get('/nope'), 404, 'not_found');
});

void test('security headers: CSP allows the page own scripts and blob: images, no x-powered-by', async () => {
  const res = await request(app()).get('/healthz');
  const csp = res.headers['content-security-policy'] ?? '';
  assert.match(csp, /default-src 'self'/);
  assert.match(csp, /img-src 'self' data: blob:/);
  assert.equal(res.headers['x-content-type-options'], 'nosniff');
  assert.equal(res.headers['x-powered-by'], undefined);
  assert.equal(res.headers['access-control-allow-origin'], undefined);
});

void test('/healthz answers quickly while inference runs in the worker', async () => {
  const heavy = await startRealApp({ channels: 3, height: 64, width: 64 }, { MAX_STEPS: '1000' });
  try {
    const state = { settled: false };
    const busy = request(heavy.handle.app)
      .post('/generate')
      .send({ count: 16, steps: 300, seed: 1 })
      .then((r) => {
        state.settled = true;
        return r;
      });
    // Let the main thread finish drawing the noise; from then on the work is in the worker.
    await new Promise((r) => setTimeout(r, 100));
    // Each health check must be answered while the inference is still running: the event loop is
    // free (how fast is for bench:serve, not for a test on a loaded machine).
    const answeredDuringInference: boolean[] = [];
    while (!state.settled && answeredDuringInference.length < 20) {
      assert.equal((await request(heavy.handle.app).get('/healthz')).status, 200);
      answeredDuringInference.push(!state.settled);
    }
    const overlapped = answeredDuringInference.filter(Boolean).length;
    assert.ok(overlapped >= 3, `only ${overlapped} health checks were answered during the inference`);
    assert.equal((await busy).status, 200);
  } finally {
    await heavy.close();
  }
});

void test('GET / serves the static page folder with the CSP header', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ign-public-'));
  try {
    await writeFile(join(dir, 'index.html'), '<!doctype html><title>IGN</title><script src="app.js"></script>');
    await writeFile(join(dir, 'app.js'), 'console.log(1);');
    const { handle } = {
      handle: createApp({
        config: server.config,
        models: [{ model: server.model, generator: server.pool }],
        logger: silentLogger,
        publicDir: dir,
      }),
    };
    const page = await request(handle.app).get('/');
    assert.equal(page.status, 200);
    assert.match(page.headers['content-type'] ?? '', /text\/html/);
    assert.match(page.headers['content-security-policy'] ?? '', /script-src 'self'/);
    const script = await request(handle.app).get('/app.js');
    assert.match(script.headers['content-type'] ?? '', /javascript/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

void test('API answers carry no ETag (nothing to revalidate, nothing to hash); static files keep theirs', async () => {
  const generated = await generate({ seed: 1 }, 'application/json');
  assert.equal(generated.status, 200);
  assert.equal(generated.headers.etag, undefined);
  const openapi = await request(app()).get('/openapi.yaml');
  assert.equal(openapi.status, 200);
  assert.equal(openapi.headers.etag, undefined);
  const page = await request(app()).get('/');
  assert.equal(page.status, 200);
  assert.ok(page.headers.etag, 'express.static still validates the web page');
});
