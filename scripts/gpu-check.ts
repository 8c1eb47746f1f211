// SPDX-License-Identifier: MIT
/**
 * @file `npm run check:gpu -- [models/mnist] [--ep cuda|webgpu]`: the GPU check prepared for a machine
 * with a GPU. Runs the exported f on the GPU provider (CUDA by default, or ORT's bundled WebGPU over
 * Vulkan) and on the CPU provider with the same seeded input, prints the largest difference and the
 * latency of each at batch 1, 8, 32, 256 and 1024, and exits 1 when the GPU provider does not load
 * (IGN_EP=cuda|webgpu semantics: no silent fallback) or the outputs differ by more than 1e-4.
 * It opens its sessions with the server's own `openSession` (server/inference/ort-runtime.ts), so
 * it exercises exactly the provider plan, session options and step loop the workers use.
 */
import { parseArgs } from 'node:util';
import { Rng } from '../common/rng.ts';
import { loadModelCard } from '../common/model-card.ts';
import { cudaUnavailableReason, vulkanLoaderMissing } from '../common/ort-options.ts';
import { openSession } from '../server/inference/ort-runtime.ts';
import type { OpenedSession } from '../server/inference/ort-runtime.ts';
import type { SessionSpec } from '../server/inference/protocol.ts';
import { sessionSpecFor } from '../server/inference/pool.ts';
import { runCli } from './cli.ts';

const TOLERANCE = 1e-4;
const BATCHES = [1, 8, 32, 256, 1024];
const USAGE = 'usage: npm run check:gpu -- [models/<name>] [--ep cuda|webgpu]';

async function forward(session: OpenedSession, input: Float32Array, count: number): Promise<Float32Array> {
  const result = await session.runSteps({ input, count, steps: 1, keepSteps: false, isCancelled: () => false });
  if (result.kind !== 'done') throw new Error(`f(x) did not complete: ${result.kind}`);
  return result.outputs[0]!;
}

async function timeRuns(session: OpenedSession, input: Float32Array, count: number, repeats: number): Promise<number> {
  await forward(session, input, count);
  const start = process.hrtime.bigint();
  for (let i = 0; i < repeats; i++) await forward(session, input, count);
  return Number(process.hrtime.bigint() - start) / 1e6 / repeats;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { ep: { type: 'string', default: 'cuda' } }, allowPositionals: true });
  const ep = values.ep;
  if ((ep !== 'cuda' && ep !== 'webgpu') || positionals.length > 1) {
    console.error(USAGE);
    return 2;
  }
  const label = ep === 'cuda' ? 'CUDA' : 'WebGPU';
  const dir = positionals[0] ?? 'models/mnist';
  const model = await loadModelCard(dir);
  const { card } = model;
  const { channels: c, height: h, width: w } = card.image;
  const spec = (on: SessionSpec['ep']): SessionSpec => sessionSpecFor(model, { ep: on, cudaDeviceId: 0, threads: 2 });
  const probe =
    ep === 'cuda'
      ? `libcuda.so.1 + /dev/nvidia*: ${cudaUnavailableReason() ?? 'present'}`
      : `Vulkan loader: ${vulkanLoaderMissing() ?? 'present'}`;
  console.log(`model ${card.name} (${dir}); ${probe}`);
  let gpu: OpenedSession;
  try {
    gpu = await openSession(spec(ep));
  } catch (err) {
    console.error(`${label} execution provider did not load: ${(err as Error).message}`);
    return 1;
  }
  const cpu = await openSession(spec('cpu'));
  let worst = 0;
  console.log(`| batch | CPU ms | ${label} ms | speed-up | max abs diff |\n|---:|---:|---:|---:|---:|`);
  for (const n of BATCHES) {
    const x = new Rng(n).fillNormal(new Float32Array(n * c * h * w));
    const [ya, yb] = [await forward(cpu, x, n), await forward(gpu, x, n)];
    let diff = 0;
    for (let i = 0; i < ya.length; i++) diff = Math.max(diff, Math.abs(ya[i]! - yb[i]!));
    worst = Math.max(worst, diff);
    const repeats = n >= 256 ? 10 : 30;
    const [tc, tg] = [await timeRuns(cpu, x, n, repeats), await timeRuns(gpu, x, n, repeats)];
    console.log(`| ${n} | ${tc.toFixed(3)} | ${tg.toFixed(3)} | ${(tc / tg).toFixed(1)}× | ${diff.toExponential(1)} |`);
  }
  await Promise.all([cpu.release(), gpu.release()]);
  console.log(
    worst <= TOLERANCE
      ? `${label} matches CPU (max |Δ| ${worst.toExponential(1)} ≤ ${TOLERANCE})`
      : `${label} differs from CPU by ${worst}`,
  );
  return worst <= TOLERANCE ? 0 : 1;
}

runCli('check:gpu', main);
