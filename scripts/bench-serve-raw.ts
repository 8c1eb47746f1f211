// SPDX-License-Identifier: MIT
/**
 * @file Raw onnxruntime-node throughput of a model directory, the baseline that bench-serve.ts
 * compares the HTTP server against. Same session options as the server's workers (intra-op threads,
 * no spinning, sequential, all graph optimisations), one session, random N(0,1) input. The file is
 * the one a one-step /generate runs: the card's generation file when it has one, else f.
 *
 * Usage: tsx scripts/bench-serve-raw.ts <modelDir> <seconds per batch> <threads> <batch,batch,...> [file]
 * (file: another ONNX file of the folder, e.g. model.onnx to time f itself: /project's cost)
 * Prints one JSON line: [{batch, runs, runsPerSecond, imagesPerSecond, p50Ms, p99Ms}, ...]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { Rng } from '../common/rng.ts';
import { sessionOptions } from '../server/inference/ort-runtime.ts';
import { ConfigError } from '../training/config.ts';
import { runCli } from './cli.ts';

interface Card {
  file: string;
  input: { name: string; shape: number[] };
  output: { name: string };
  generation?: { file: string };
}

export interface RawResult {
  batch: number;
  runs: number;
  runsPerSecond: number;
  imagesPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

async function measure(session: ort.InferenceSession, card: Card, batch: number, seconds: number): Promise<RawResult> {
  const [, c = 1, h = 1, w = 1] = card.input.shape;
  const x = new Float32Array(batch * c * h * w);
  new Rng(batch).fillNormal(x, 0, 1);
  const feeds = { [card.input.name]: new ort.Tensor('float32', x, [batch, c, h, w]) };
  for (let i = 0; i < 3; i++) await session.run(feeds);
  const latencies: number[] = [];
  const start = performance.now();
  while (performance.now() - start < seconds * 1000) {
    const t0 = performance.now();
    await session.run(feeds);
    latencies.push(performance.now() - t0);
  }
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    batch,
    runs: latencies.length,
    runsPerSecond: latencies.length / elapsed,
    imagesPerSecond: (latencies.length * batch) / elapsed,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
  };
}

async function main(argv: string[]): Promise<undefined> {
  const [modelDir, secondsArg = '3', threadsArg = '1', batchesArg = '1,8,32', fileArg] = argv;
  if (modelDir === undefined) throw new ConfigError('usage: bench-serve-raw.ts <modelDir> [seconds] [threads] [batches]');
  const card = JSON.parse(readFileSync(join(modelDir, 'model.json'), 'utf8')) as Card;
  const file = fileArg ?? card.generation?.file ?? card.file;
  const session = await ort.InferenceSession.create(join(modelDir, file), sessionOptions(Number(threadsArg), ['cpu']));
  const results: RawResult[] = [];
  for (const batch of batchesArg.split(',').map(Number)) results.push(await measure(session, card, batch, Number(secondsArg)));
  await session.release();
  process.stdout.write(`${JSON.stringify(results)}\n`);
}

runCli('bench-serve-raw', main);
