// SPDX-License-Identifier: MIT
/**
 * @file `npm run check:gpu -- [models/mnist]`: the GPU check prepared for a machine with CUDA. Runs the
 * exported f on the CUDA and the CPU execution providers with the same seeded input, prints the
 * largest difference and the latency of each at batch 1, 8, 32 and 256, and exits 1 when CUDA does
 * not load (IGN_EP=cuda semantics: no silent fallback) or the outputs differ by more than 1e-4.
 * The server's CUDA path uses the same provider options (server/inference/ort-runtime.ts).
 */
import { readFile } from 'node:fs/promises';
import { Rng } from '../common/rng.ts';
import { loadModelCard } from '../common/model-card.ts';
import { createSession, cudaLooksAvailable } from '../training/runtime/ort.ts';
import type { Session } from '../training/runtime/ort.ts';

const TOLERANCE = 1e-4;
const BATCHES = [1, 8, 32, 256];

async function timeRuns(session: Session, feeds: Parameters<Session['run']>[0], repeats: number): Promise<number> {
  await session.run(feeds);
  const start = process.hrtime.bigint();
  for (let i = 0; i < repeats; i++) await session.run(feeds);
  return Number(process.hrtime.bigint() - start) / 1e6 / repeats;
}

const dir = process.argv[2] ?? 'models/mnist';
const { card, modelPath } = await loadModelCard(dir);
const bytes = new Uint8Array(await readFile(modelPath));
console.log(`model ${card.name} (${dir}); libcuda.so.1 + /dev/nvidia*: ${cudaLooksAvailable() ? 'present' : 'absent'}`);
let cuda: Session;
try {
  cuda = await createSession(bytes, { ep: 'cuda' });
} catch (err) {
  console.error(`CUDA execution provider did not load: ${(err as Error).message}`);
  process.exit(1);
}
const cpu = await createSession(bytes, { ep: 'cpu', threads: 2 });
const { channels: c, height: h, width: w } = card.image;
let worst = 0;
console.log('| batch | CPU ms | CUDA ms | speed-up | max abs diff |\n|---:|---:|---:|---:|---:|');
for (const n of BATCHES) {
  const x = new Rng(n).fillNormal(new Float32Array(n * c * h * w));
  const feeds = { [card.input.name]: { dtype: 'float32' as const, shape: [n, c, h, w], data: x } };
  const [a, b] = [await cpu.run(feeds), await cuda.run(feeds)];
  const ya = a[card.output.name]!.data as Float32Array;
  const yb = b[card.output.name]!.data as Float32Array;
  let diff = 0;
  for (let i = 0; i < ya.length; i++) diff = Math.max(diff, Math.abs(ya[i]! - yb[i]!));
  worst = Math.max(worst, diff);
  const repeats = n >= 256 ? 5 : 20;
  const [tc, tg] = [await timeRuns(cpu, feeds, repeats), await timeRuns(cuda, feeds, repeats)];
  console.log(`| ${n} | ${tc.toFixed(3)} | ${tg.toFixed(3)} | ${(tc / tg).toFixed(1)}× | ${diff.toExponential(1)} |`);
}
await Promise.all([cpu.release(), cuda.release()]);
console.log(worst <= TOLERANCE ? `CUDA matches CPU (max |Δ| ${worst.toExponential(1)} ≤ ${TOLERANCE})` : `CUDA differs from CPU by ${worst}`);
process.exit(worst <= TOLERANCE ? 0 : 1);
