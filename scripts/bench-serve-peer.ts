// SPDX-License-Identifier: MIT
/**
 * @file The direct peer bench-serve.ts measures the server against: the obvious few-line
 * alternative, Express + onnxruntime-node on the event loop + sharp, no queue, no workers, no
 * batching, no validation. It draws the same noise as the server (the model card's kind), runs
 * the same session options and, like the server, the card's generation file for the first step
 * when there is one. With --ceiling the same route answers one fixed PNG without touching
 * the model: what Express alone can serve on this machine (the HTTP ceiling).
 *
 * Usage: tsx scripts/bench-serve-peer.ts <modelDir> <port> <threads> [--ceiling]
 */
import express from 'express';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { loadModelCard } from '../common/model-card.ts';
import { sampleNoise } from '../common/noise.ts';
import { Rng } from '../common/rng.ts';
import { sessionOptions } from '../server/inference/ort-runtime.ts';

const [modelDir = 'models/mnist', port = '0', threads = '1', flag] = process.argv.slice(2);
const model = await loadModelCard(modelDir);
const { card } = model;
const { channels: c, height: h, width: w } = card.image;
const session = await ort.InferenceSession.create(model.modelPath, sessionOptions(Number(threads), ['cpu']));
const firstStep =
  model.generatorPath === null ? session : await ort.InferenceSession.create(model.generatorPath, sessionOptions(Number(threads), ['cpu']));

async function generatePng(seed: number, steps: number): Promise<Buffer> {
  let x = sampleNoise(card.noise, model.noiseStats, [c, h, w], new Rng(seed), 1);
  for (let s = 0; s < steps; s++) {
    const out = await (s === 0 ? firstStep : session).run({ [card.input.name]: new ort.Tensor('float32', x, [1, c, h, w]) });
    x = out[card.output.name]!.data as Float32Array;
  }
  // [-1, 1] → 0..255, channel-planar → interleaved.
  const bytes = new Uint8Array(c * h * w);
  for (let ch = 0; ch < c; ch++) {
    for (let i = 0; i < h * w; i++) bytes[i * c + ch] = Math.round((Math.min(1, Math.max(-1, x[ch * h * w + i]!)) + 1) * 127.5);
  }
  return sharp(bytes, { raw: { width: w, height: h, channels: c } })
    .png()
    .toBuffer();
}

const fixed = flag === '--ceiling' ? await generatePng(7, 1) : null;
const app = express();
app.use(express.json());
app.post('/generate', async (req, res) => {
  const { seed = 0, steps = 1 } = req.body as { seed?: number; steps?: number };
  res.type('image/png').send(fixed ?? (await generatePng(seed, steps)));
});
const server = app.listen(Number(port), '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`listening ${typeof address === 'object' && address !== null ? address.port : port}\n`);
});
process.on('SIGTERM', () => {
  server.close();
  void Promise.all([session.release(), firstStep === session ? null : firstStep.release()]).then(() => process.exit(0));
});
