// SPDX-License-Identifier: MIT
/**
 * @file `npm run bench:serve`: throughput and latency of the real server (child process on
 * loopback, real worker pool, bundled model or a tiny one) under autocannon, next to raw
 * onnxruntime-node session.run throughput measured in the same run. Closed-loop load: each of `c`
 * connections sends its next request when the previous answer arrives. Load generator, server and
 * ORT share this machine's cores, so figures are relative, not capacity planning numbers.
 *
 *   npm run bench:serve                       matrix: /generate, /project × c 1, 8, 32 × batching on/off
 *   npm run bench:serve -- --seconds 2        shorter cells
 *   npm run bench:serve -- --soak             60 s at ~4× measured capacity: 5xx, rejections, RSS growth
 *   npm run bench:serve -- --model models/x   another model directory
 */
import { spawn } from 'node:child_process';
import { availableParallelism, tmpdir } from 'node:os';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBenchServer, type BenchServer } from './bench-serve-server.ts';
import { runAutocannon, type LoadResult, type LoadSpec } from './bench-serve-load.ts';
import type { RawResult } from './bench-serve-raw.ts';
import { ConfigError } from '../training/config.ts';
import { parseFlags, runCli } from './cli.ts';

const CONCURRENCIES = [1, 8, 32] as const;
const RAW_BATCHES = [1, 8, 32] as const;
const GENERATE_BODY = JSON.stringify({ count: 1, steps: 1, seed: 7 });

const TINY_MODEL_MODULE: string = '../tests/support/tiny-model.ts';

interface Row { mode: string; route: string; concurrency: number; load: LoadResult }
interface TinyModelModule {
  writeTinyModelDir: (dir: string, opts: { channels: number; height: number; width: number }) => Promise<void>;
}

async function resolveModelDir(requested: string | undefined, scratch: string): Promise<{ dir: string; label: string }> {
  if (requested !== undefined) return { dir: requested, label: requested };
  if (existsSync('models/mnist/model.onnx')) return { dir: 'models/mnist', label: 'models/mnist' };
  // A computed specifier keeps tests/ out of `npm run build` (and so out of the Docker build context).
  const { writeTinyModelDir } = await import(TINY_MODEL_MODULE) as TinyModelModule;
  const dir = join(scratch, 'tiny');
  await writeTinyModelDir(dir, { channels: 1, height: 28, width: 28 });
  return { dir, label: 'tiny tanh model 1×28×28 (models/mnist/model.onnx not found)' };
}

function rawOrt(modelDir: string, seconds: number, threads: number): Promise<RawResult[]> {
  const args = ['--import', 'tsx', 'scripts/bench-serve-raw.ts', modelDir, String(seconds), String(threads), RAW_BATCHES.join(',')];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString(); });
  return new Promise((resolve, reject) => {
    child.on('exit', (code) => {
      if (code === 0) resolve(JSON.parse(out) as RawResult[]);
      else reject(new Error(`bench-serve-raw exited with ${code}`));
    });
  });
}

/** A PNG the model itself produced, so /project decodes an image of exactly the model's size. */
async function writeProjectForm(server: BenchServer, scratch: string): Promise<string> {
  const res = await fetch(`${server.url}/generate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: GENERATE_BODY });
  if (res.status !== 200) throw new Error(`seed image: /generate answered ${res.status}`);
  const png = join(scratch, 'input.png');
  writeFileSync(png, Buffer.from(await res.arrayBuffer()));
  const form = join(scratch, 'form.json');
  // The multipart body holds exactly one part, the file; steps travel in the query (openapi.yaml).
  writeFileSync(form, JSON.stringify({ image: { type: 'file', path: png } }));
  return form;
}

function specs(server: BenchServer, form: string, seconds: number): { route: string; spec: Omit<LoadSpec, 'connections'> }[] {
  return [
    { route: '/generate', spec: { url: `${server.url}/generate`, seconds, method: 'POST', body: GENERATE_BODY, headers: ['content-type=application/json'] } },
    { route: '/project', spec: { url: `${server.url}/project?steps=1`, seconds, method: 'POST', form } },
  ];
}

async function runMode(mode: string, maxBatch: number, modelDir: string, scratch: string, seconds: number): Promise<Row[]> {
  // Queue and upload admission sized above the offered concurrency: this measures throughput, not rejection.
  const server = await startBenchServer(modelDir, { MAX_BATCH_SIZE: String(maxBatch), MAX_QUEUE: '1024', MAX_UPLOADS: '64' });
  const rows: Row[] = [];
  try {
    const form = await writeProjectForm(server, scratch);
    for (const { route, spec } of specs(server, form, seconds)) {
      for (const connections of CONCURRENCIES) {
        rows.push({ mode, route, concurrency: connections, load: await runAutocannon({ ...spec, connections }) });
      }
    }
  } finally {
    await server.stop();
  }
  return rows;
}

const fmt = (n: number, digits = 1): string => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

function printMatrix(rows: Row[], raw: RawResult[], label: string, seconds: number, threads: number): void {
  console.log(`\n## bench:serve — model: ${label}; ${seconds} s per cell; ${availableParallelism()} cores; ORT intra-op threads ${threads}\n`);
  console.log('| batching | route | conc. | responses/s | p50 ms | p99 ms | 2xx | non-2xx (by status) | socket errors | timeouts |');
  console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    const l = r.load;
    const byStatus = Object.entries(l.statusCounts).filter(([s]) => !s.startsWith('2')).map(([s, n]) => `${s}×${n}`).join(' ');
    console.log(`| ${r.mode} | ${r.route} | ${r.concurrency} | ${fmt(l.requestsPerSecond)} | ${fmt(l.p50Ms)} | ${fmt(l.p99Ms)} | ${l.ok} | ${l.non2xx}${byStatus === '' ? '' : ` (${byStatus})`} | ${l.errors} | ${l.timeouts} |`);
  }
  console.log('\n| raw session.run | runs/s | images/s | p50 ms | p99 ms |');
  console.log('|---|---:|---:|---:|---:|');
  for (const r of raw) console.log(`| batch ${r.batch} | ${fmt(r.runsPerSecond)} | ${fmt(r.imagesPerSecond)} | ${fmt(r.p50Ms, 3)} | ${fmt(r.p99Ms, 3)} |`);
  const gen32 = rows.find((r) => r.mode === 'on (32)' && r.route === '/generate' && r.concurrency === 32);
  const gen1 = rows.find((r) => r.mode === 'on (32)' && r.route === '/generate' && r.concurrency === 1);
  const raw32 = raw.find((r) => r.batch === 32);
  const raw1 = raw.find((r) => r.batch === 1);
  if (gen32 && raw32) {
    console.log(`\n/generate@32 (batching on) ÷ raw@batch32: ${fmt(gen32.load.requestsPerSecond)} req/s ÷ ${fmt(raw32.imagesPerSecond)} images/s = ${fmt(gen32.load.requestsPerSecond / raw32.imagesPerSecond, 4)}`);
  }
  if (gen1 && raw1) {
    console.log(`/generate p50@1 − raw single-image p50: ${fmt(gen1.load.p50Ms, 2)} ms − ${fmt(raw1.p50Ms, 3)} ms = ${fmt(gen1.load.p50Ms - raw1.p50Ms, 2)} ms (HTTP, JSON, queue, worker hop, PNG encode)`);
  }
}

/** `ign_rejected_requests_total{reason=…}` lines from the server's own /metrics. */
async function rejectionsByReason(server: BenchServer): Promise<string> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const lines = text.split('\n').filter((l) => l.startsWith('ign_rejected_requests_total{'));
  return lines.map((l) => l.replace('ign_rejected_requests_total', '')).join(', ') || 'none';
}

/** Samples the server's RSS once a second while `work` runs. */
async function withRssSamples<T>(server: BenchServer, work: Promise<T>): Promise<{ result: T; rss: number[] }> {
  const rss = [server.rssMb()];
  const sampler = setInterval(() => { rss.push(server.rssMb()); }, 1000);
  const result = await work;
  clearInterval(sampler);
  rss.push(server.rssMb());
  return { result, rss };
}

async function runSoak(modelDir: string, label: string, scratch: string): Promise<void> {
  const server = await startBenchServer(modelDir, { MAX_BATCH_SIZE: '32', MAX_QUEUE: '32' });
  try {
    const form = await writeProjectForm(server, scratch);
    const [generate] = specs(server, form, 5);
    // Capacity with full batches: closed loop at 32 connections = MAX_BATCH_SIZE.
    const probe = await runAutocannon({ ...generate!.spec, connections: 32 });
    const rate = Math.max(1, Math.round(4 * probe.requestsPerSecond));
    await new Promise((r) => setTimeout(r, 1000));
    const { result: soak, rss } = await withRssSamples(server, runAutocannon({ ...generate!.spec, seconds: 60, connections: 128, overallRate: rate }));
    const [start = NaN, mid = NaN, end = NaN] = [rss[0], rss[Math.floor(rss.length / 2)], rss.at(-1)];
    const fiveXx = Object.entries(soak.statusCounts).filter(([s]) => s.startsWith('5'));
    const count = (entries: [string, number][]): number => entries.reduce((a, [, n]) => a + n, 0);
    console.log(`\n## bench:serve --soak — model: ${label}; /generate count 1 steps 1; MAX_BATCH_SIZE 32, MAX_QUEUE 32`);
    console.log(`capacity probe (closed loop, c 32, 5 s): ${fmt(probe.requestsPerSecond)} req/s → offered ${rate} req/s for 60 s over 128 connections`);
    console.log(`answered ${fmt(soak.requestsPerSecond)} responses/s; 2xx ${soak.ok}; by status ${JSON.stringify(soak.statusCounts)}; socket errors ${soak.errors}; timeouts ${soak.timeouts}`);
    console.log(`5xx total ${count(fiveXx)}: 503 rejections ${soak.statusCounts['503'] ?? 0}, other 5xx ${count(fiveXx.filter(([s]) => s !== '503'))}; server-side rejections: ${await rejectionsByReason(server)}`);
    console.log(`latency over all responses p50 ${fmt(soak.p50Ms)} ms, p99 ${fmt(soak.p99Ms)} ms (fixed rate: autocannon corrects for coordinated omission)`);
    console.log(`server RSS MB: start ${fmt(start)}, peak ${fmt(Math.max(...rss))}, mid-run ${fmt(mid)}, end ${fmt(end)}; growth ${fmt(end - start)} total, ${fmt(end - mid)} over the second half`);
  } finally {
    await server.stop();
  }
}

async function main(argv: string[]): Promise<undefined> {
  const { values } = parseFlags(argv, { soak: { type: 'boolean', default: false }, seconds: { type: 'string', default: '5' }, model: { type: 'string' } });
  const seconds = Number(values.seconds);
  if (!(seconds > 0)) throw new ConfigError('--seconds must be positive');
  const model = values.model === undefined ? undefined : resolve(values.model);
  // Child processes (server, raw ORT) and the bundled model are addressed from the repository root.
  process.chdir(fileURLToPath(new URL('..', import.meta.url)));
  const scratch = mkdtempSync(join(tmpdir(), 'bench-serve-'));
  try {
    const { dir, label } = await resolveModelDir(model, scratch);
    if (values.soak) {
      await runSoak(dir, label, scratch);
      return;
    }
    const threads = availableParallelism();
    const rows = [...await runMode('on (32)', 32, dir, scratch, seconds), ...await runMode('off (1)', 1, dir, scratch, seconds)];
    const raw = await rawOrt(dir, Math.min(seconds, 3), threads);
    printMatrix(rows, raw, label, seconds, threads);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

runCli('bench:serve', main);
