// SPDX-License-Identifier: MIT
// A card's generation file (f with noise-calibrated BatchNorm statistics) runs the first application
// of /generate only: later steps, /project and the OIP infer route run f. The tiny models make that
// visible: the generation file is the identity, f is tanh(0.8x + 0.1).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import request from 'supertest';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadModelCard } from '../../common/model-card.ts';
import { WorkerPool, poolOptionsFor } from '../../server/inference/pool.ts';
import { silentLogger, startRealApp, testConfig, tinyModelDir, type RealServer } from './helpers.ts';

let withFile: RealServer;
let plain: RealServer;
before(async () => {
  withFile = await startRealApp({ channels: 1, height: 8, width: 8, generator: 'identity' });
  plain = await startRealApp({ channels: 1, height: 8, width: 8 });
});
after(async () => {
  await withFile.close();
  await plain.close();
});

interface Generated {
  images: { png: string; steps: string[]; residuals: number[] }[];
}
const generate = async (server: RealServer, steps: number): Promise<Generated['images'][number]> => {
  const res = await request(server.handle.app)
    .post('/generate')
    .set('Accept', 'application/json')
    .send({ count: 1, steps, seed: 9, returnSteps: true });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return (res.body as Generated).images[0]!;
};

void test('/generate runs the generation file first, then f', async () => {
  const [two, one] = [await generate(withFile, 2), await generate(plain, 1)];
  assert.equal(two.residuals[0], 0, 'the identity generation file leaves z unchanged');
  assert.ok(two.residuals[1]! > 0, 'the second step is f');
  assert.equal(two.steps[1], one.steps[0], 'f(generation(z)) = f(z) for the identity file');
  const same = await generate(plain, 2);
  assert.ok(same.residuals[0]! > 0, 'without a generation file the first step is f');
});

void test('/project never runs the generation file', async () => {
  const png = await sharp(Buffer.alloc(64, 40), { raw: { width: 8, height: 8, channels: 1 } })
    .png()
    .toBuffer();
  const project = (server: RealServer) =>
    request(server.handle.app).post('/project').set('Accept', 'application/json').field('steps', '1').attach('image', png, 'x.png');
  const [a, b] = [await project(withFile), await project(plain)];
  assert.equal(a.status, 200, JSON.stringify(a.body));
  const body = (res: request.Response) => res.body as { output: string; oodScore: number };
  assert.ok(body(a).oodScore > 0, 'f moved the image: the identity file did not run');
  assert.equal(body(a).output, body(b).output);
  assert.equal(body(a).oodScore, body(b).oodScore);
});

void test('a generation file ONNX Runtime cannot load fails the model load and says which file', async () => {
  const { dir, cleanup } = await tinyModelDir({ channels: 1, height: 8, width: 8, generator: 'identity' });
  try {
    await writeFile(join(dir, 'generator.onnx'), Buffer.from('not an onnx model'.repeat(10)));
    const model = await loadModelCard(dir);
    const pool = new WorkerPool(poolOptionsFor(testConfig({ MODEL_DIR: dir }), model, silentLogger));
    try {
      await assert.rejects(pool.start(), /generation file .*generator\.onnx/);
    } finally {
      await pool.close();
    }
  } finally {
    await cleanup();
  }
});
