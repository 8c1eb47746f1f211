// SPDX-License-Identifier: MIT
/**
 * @file `npm run bench:serve`: throughput and latency of the real server (child process on
 * loopback, real worker pool, bundled model or a tiny one) measured in the same run as three
 * references: a direct peer (Express + onnxruntime-node on the event loop + sharp,
 * bench-serve-peer.ts), the HTTP ceiling (the peer's route answering a fixed PNG) and raw
 * session.run, plus the time one source-noise draw takes (bench-serve-noise.ts). Closed-loop load
 * with sub-millisecond latency (bench-serve-closed-loop.ts): each of
 * `c` connections sends its next request when the previous answer arrives. Load generator, servers
 * and ORT share this machine's cores, so figures are relative, not capacity planning numbers.
 *
 *   npm run bench:serve                       server /generate, /project × c 1, 8, 32; peer; ceiling; raw
 *   npm run bench:serve -- --seconds 2        shorter cells
 *   npm run bench:serve -- --rounds 3         every system measured 3 times in turn; per-cell medians
 *   npm run bench:serve -- --soak             60 s at ~4× measured capacity (autocannon): 5xx, rejections, RSS growth
 *   npm run bench:serve -- --batch-caps 8,16,32   the server at 32 connections under each MAX_BATCH_SIZE
 *   npm run bench:serve -- --model models/x   another model directory
 */
import { spawn } from 'node:child_process';
import { availableParallelism, tmpdir } from 'node:os';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBenchServer, type BenchServer } from './bench-serve-server.ts';
import { runAutocannon } from './bench-serve-load.ts';
import type { LoopResult } from './bench-serve-closed-loop.ts';
import { GENERATE_BODY, generateCell, load, projectCell, runScript, type CellLoad } from './bench-serve-cells.ts';
import { measureBatchCaps, printBatchCaps } from './bench-serve-batch-caps.ts';
import type { NoiseResult } from './bench-serve-noise.ts';
import type { RawResult } from './bench-serve-raw.ts';
import { fmt, medianNoise, medianRaw, medianRows, rangeText, type Row } from './bench-serve-rounds.ts';
import { ConfigError } from '../training/config.ts';
import { parseFlags, runCli } from './cli.ts';

const CONCURRENCIES = [1, 8, 32] as const;
const CEILING_CONCURRENCIES = [1, 32] as const;
const RAW_BATCHES = [1, 8, 32] as const;

const TINY_MODEL_MODULE: string = '../tests/support/tiny-model.ts';

interface TinyModelModule {
  writeTinyModelDir: (dir: string, opts: { channels: number; height: number; width: number }) => Promise<void>;
}

async function resolveModelDir(requested: string | undefined, scratch: string): Promise<{ dir: string; label: string }> {
  if (requested !== undefined) return { dir: requested, label: requested };
  if (existsSync('models/mnist/model.onnx')) return { dir: 'models/mnist', label: 'models/mnist' };
  // A computed specifier keeps tests/ out of `npm run build` (and so out of the Docker build context).
  const { writeTinyModelDir } = (await import(TINY_MODEL_MODULE)) as TinyModelModule;
  const dir = join(scratch, 'tiny');
  await writeTinyModelDir(dir, { channels: 1, height: 28, width: 28 });
  return { dir, label: 'tiny tanh model 1×28×28 (models/mnist/model.onnx not found)' };
}

async function rawOrt(modelDir: string, seconds: number, threads: number): Promise<RawResult[]> {
  return JSON.parse(
    await runScript('scripts/bench-serve-raw.ts', [modelDir, String(seconds), String(threads), RAW_BATCHES.join(',')]),
  ) as RawResult[];
}

async function noiseDraws(modelDir: string, seconds: number): Promise<NoiseResult[]> {
  return JSON.parse(await runScript('scripts/bench-serve-noise.ts', [modelDir, String(seconds), '1,8'])) as NoiseResult[];
}

/** The peer (or, with --ceiling, the fixed-PNG route) as a child process; resolves once it listens. */
async function startPeer(modelDir: string, threads: number, ceiling: boolean): Promise<{ url: string; stop: () => void }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'scripts/bench-serve-peer.ts', modelDir, '0', String(threads), ...(ceiling ? ['--ceiling'] : [])],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening (\d+)/.exec(out);
      if (match) resolve(Number(match[1]));
    });
    child.on('exit', (code) => {
      reject(new Error(`peer exited with ${code}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () => {
      child.kill('SIGTERM');
    },
  };
}

async function measureServer(modelDir: string, cellLoad: CellLoad): Promise<Row[]> {
  // Queue and upload admission sized above the offered concurrency: this measures throughput, not
  // rejection. Batching stays at the server's defaults (MAX_BATCH_SIZE 8): a cap at the offered
  // concurrency (32) merges every waiting request into one batch, so the event loop idles while the
  // worker runs it and the worker idles while the event loop answers it (docs/serving.md, "Batching").
  const server = await startBenchServer(modelDir, { MAX_QUEUE: '1024', MAX_UPLOADS: '64' });
  const rows: Row[] = [];
  try {
    for (const cell of [generateCell(server.url), await projectCell(server)]) {
      for (const c of CONCURRENCIES)
        rows.push({ system: 'server', route: cell.route, concurrency: c, load: await load(cell, c, cellLoad) });
    }
  } finally {
    await server.stop();
  }
  return rows;
}

async function measurePeer(system: 'peer' | 'HTTP ceiling', modelDir: string, threads: number, cellLoad: CellLoad): Promise<Row[]> {
  const peer = await startPeer(modelDir, threads, system === 'HTTP ceiling');
  const rows: Row[] = [];
  try {
    for (const c of system === 'peer' ? CONCURRENCIES : CEILING_CONCURRENCIES) {
      rows.push({ system, route: '/generate', concurrency: c, load: await load(generateCell(peer.url), c, cellLoad) });
    }
  } finally {
    peer.stop();
  }
  return rows;
}

function printMatrix(
  rows: Row[],
  raw: RawResult[],
  noise: NoiseResult[],
  label: string,
  { seconds, client }: CellLoad,
  threads: number,
  rounds: number,
): void {
  const of = rounds > 1 ? `; medians of ${rounds} rounds (responses/s range in brackets)` : '';
  console.log(
    `\n## bench:serve — model: ${label}; ${seconds} s per cell after 1 s warm-up${of}; load generator client: ${client}; ${availableParallelism()} cores; ORT intra-op threads: peer and raw ${threads}, server its THREADS_PER_WORKER default\n`,
  );
  console.log('| system | route | conc. | responses/s | p50 ms | p99 ms | statuses | errors | load generator CPU µs/response |');
  console.log('|---|---|---:|---:|---:|---:|---|---:|---:|');
  for (const r of rows) {
    const l = r.load;
    const statuses = Object.entries(l.statusCounts)
      .map(([s, n]) => `${s}×${n}`)
      .join(' ');
    console.log(
      `| ${r.system} | ${r.route} | ${r.concurrency} | ${fmt(l.requestsPerSecond)}${rangeText(r)} | ${fmt(l.p50Ms, 2)} | ${fmt(l.p99Ms, 2)} | ${statuses} | ${l.errors} | ${fmt(l.clientCpuUsPerRequest ?? Number.NaN)} |`,
    );
  }
  console.log("\n| raw session.run (the file of /generate's first step) | runs/s | images/s | p50 ms | p99 ms |");
  console.log('|---|---:|---:|---:|---:|');
  for (const r of raw)
    console.log(`| batch ${r.batch} | ${fmt(r.runsPerSecond)} | ${fmt(r.imagesPerSecond)} | ${fmt(r.p50Ms, 3)} | ${fmt(r.p99Ms, 3)} |`);
  console.log("\n| source-noise draw (the card's kind, on the event loop of this process) | µs per image |");
  console.log('|---|---:|');
  for (const n of noise) console.log(`| ${n.count} image${n.count === 1 ? '' : 's'} per draw | ${fmt(n.usPerImage)} |`);
  const cell = (system: string, c: number): LoopResult | undefined =>
    rows.find((r) => r.system === system && r.route === '/generate' && r.concurrency === c)?.load;
  const [s1, p1, s32, p32, ceiling32] = [
    cell('server', 1),
    cell('peer', 1),
    cell('server', 32),
    cell('peer', 32),
    cell('HTTP ceiling', 32),
  ];
  const raw32 = raw.find((r) => r.batch === 32);
  if (s1 === undefined || p1 === undefined || s32 === undefined || p32 === undefined || ceiling32 === undefined || raw32 === undefined)
    return;
  const combined = 1 / (1 / ceiling32.requestsPerSecond + 1 / raw32.imagesPerSecond);
  const verdict = (ok: boolean): string => (ok ? 'met' : 'NOT met');
  console.log('\nTargets (/generate, server vs peer measured above):');
  console.log(
    `- c 1 req/s ratio: ${fmt(s1.requestsPerSecond)} ÷ ${fmt(p1.requestsPerSecond)} = ${fmt(s1.requestsPerSecond / p1.requestsPerSecond, 2)} (target ≥ 0.8: ${verdict(s1.requestsPerSecond >= 0.8 * p1.requestsPerSecond)})`,
  );
  console.log(`- c 1 p50: ${fmt(s1.p50Ms, 2)} ms vs peer ${fmt(p1.p50Ms, 2)} ms + 0.5 (target: ${verdict(s1.p50Ms <= p1.p50Ms + 0.5)})`);
  console.log(
    `- c 32 req/s ratio: ${fmt(s32.requestsPerSecond)} ÷ ${fmt(p32.requestsPerSecond)} = ${fmt(s32.requestsPerSecond / p32.requestsPerSecond, 2)} (target ≥ 3: ${verdict(s32.requestsPerSecond >= 3 * p32.requestsPerSecond)})`,
  );
  console.log(
    `- c 32 vs combined ceiling 1/(1/${fmt(ceiling32.requestsPerSecond)} + 1/${fmt(raw32.imagesPerSecond)}) = ${fmt(combined)} req/s: ${fmt((100 * s32.requestsPerSecond) / combined)} % (target ≥ 50 %: ${verdict(s32.requestsPerSecond >= 0.5 * combined)})`,
  );
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
  const sampler = setInterval(() => {
    rss.push(server.rssMb());
  }, 1000);
  const result = await work;
  clearInterval(sampler);
  rss.push(server.rssMb());
  return { result, rss };
}

async function runSoak(modelDir: string, label: string): Promise<void> {
  const server = await startBenchServer(modelDir, { MAX_BATCH_SIZE: '32', MAX_QUEUE: '32' });
  try {
    const generate = {
      spec: { url: `${server.url}/generate`, seconds: 5, method: 'POST', body: GENERATE_BODY, headers: ['content-type=application/json'] },
    } as const;
    // Capacity with full batches: closed loop at 32 connections = MAX_BATCH_SIZE.
    const probe = await runAutocannon({ ...generate.spec, connections: 32 });
    const rate = Math.max(1, Math.round(4 * probe.requestsPerSecond));
    await new Promise((r) => setTimeout(r, 1000));
    const { result: soak, rss } = await withRssSamples(
      server,
      runAutocannon({ ...generate.spec, seconds: 60, connections: 128, overallRate: rate }),
    );
    const [start = NaN, mid = NaN, end = NaN] = [rss[0], rss[Math.floor(rss.length / 2)], rss.at(-1)];
    const fiveXx = Object.entries(soak.statusCounts).filter(([s]) => s.startsWith('5'));
    const count = (entries: [string, number][]): number => entries.reduce((a, [, n]) => a + n, 0);
    console.log(`\n## bench:serve --soak — model: ${label}; /generate count 1 steps 1; MAX_BATCH_SIZE 32, MAX_QUEUE 32`);
    console.log(
      `capacity probe (closed loop, c 32, 5 s): ${fmt(probe.requestsPerSecond)} req/s → offered ${rate} req/s for 60 s over 128 connections`,
    );
    console.log(
      `answered ${fmt(soak.requestsPerSecond)} responses/s; 2xx ${soak.ok}; by status ${JSON.stringify(soak.statusCounts)}; socket errors ${soak.errors}; timeouts ${soak.timeouts}`,
    );
    console.log(
      `5xx total ${count(fiveXx)}: 503 rejections ${soak.statusCounts['503'] ?? 0}, other 5xx ${count(fiveXx.filter(([s]) => s !== '503'))}; server-side rejections: ${await rejectionsByReason(server)}`,
    );
    console.log(
      `latency over all responses p50 ${fmt(soak.p50Ms)} ms, p99 ${fmt(soak.p99Ms)} ms (fixed rate: autocannon corrects for coordinated omission)`,
    );
    console.log(
      `server RSS MB: start ${fmt(start)}, peak ${fmt(Math.max(...rss))}, mid-run ${fmt(mid)}, end ${fmt(end)}; growth ${fmt(end - start)} total, ${fmt(end - mid)} over the second half`,
    );
  } finally {
    await server.stop();
  }
}

const HELP = `Serving throughput and latency against a direct peer, the HTTP ceiling and raw session.run.

usage: npm run bench:serve -- [--seconds 5] [--rounds 1] [--batch-caps 8,16,32] [--client wire|node-http] [--model models/<name>] [--soak] [--debug]
  --seconds <s>   length of each closed-loop cell (default 5)
  --batch-caps <list>  only the server's /generate at 32 connections under each MAX_BATCH_SIZE in the
                  list (e.g. 8,16,32), alternating within each round
  --client <c>    the load generator's HTTP client: raw sockets (wire, default) or node:http's, which
                  costs the shared cores several times more CPU per request
  --rounds <n>    measure every system n times in turn and report per-cell medians (default 1)
  --model <dir>   model folder (default the bundled models/mnist, else a tiny model)
  --soak          60 s at ~4× measured capacity: 5xx, rejections, RSS growth`;

async function main(argv: string[]): Promise<undefined> {
  const { values } = parseFlags(
    argv,
    {
      soak: { type: 'boolean', default: false },
      seconds: { type: 'string', default: '5' },
      rounds: { type: 'string', default: '1' },
      client: { type: 'string', default: 'wire' },
      'batch-caps': { type: 'string' },
      model: { type: 'string' },
    },
    false,
    HELP,
  );
  const seconds = Number(values.seconds);
  if (!(seconds > 0)) throw new ConfigError('--seconds must be positive');
  const rounds = Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) throw new ConfigError('--rounds must be a positive integer');
  const client = values.client;
  if (client !== 'wire' && client !== 'node-http') throw new ConfigError('--client must be wire or node-http');
  const cellLoad: CellLoad = { seconds, client };
  const caps = values['batch-caps']?.split(',').map(Number);
  if (caps !== undefined && !caps.every((c) => Number.isInteger(c) && c >= 1 && c <= 256))
    throw new ConfigError('--batch-caps must be a comma-separated list of integers in [1, 256]');
  const model = values.model === undefined ? undefined : resolve(values.model);
  // Child processes (server, raw ORT) and the bundled model are addressed from the repository root.
  process.chdir(fileURLToPath(new URL('..', import.meta.url)));
  const scratch = mkdtempSync(join(tmpdir(), 'bench-serve-'));
  try {
    const { dir, label } = await resolveModelDir(model, scratch);
    if (values.soak) {
      await runSoak(dir, label);
      return;
    }
    if (caps !== undefined) {
      const sweep: Row[][] = [];
      for (let round = 1; round <= rounds; round++) sweep.push(await measureBatchCaps(dir, caps, cellLoad));
      printBatchCaps(medianRows(sweep), label, cellLoad, rounds);
      return;
    }
    const threads = availableParallelism();
    const rowRounds: Row[][] = [];
    const rawRounds: RawResult[][] = [];
    const noiseRounds: NoiseResult[][] = [];
    for (let round = 1; round <= rounds; round++) {
      rowRounds.push([
        ...(await measureServer(dir, cellLoad)),
        ...(await measurePeer('peer', dir, threads, cellLoad)),
        ...(await measurePeer('HTTP ceiling', dir, threads, cellLoad)),
      ]);
      rawRounds.push(await rawOrt(dir, Math.min(seconds, 3), threads));
      noiseRounds.push(await noiseDraws(dir, 1));
      if (rounds > 1) process.stderr.write(`bench:serve round ${round}/${rounds} done\n`);
    }
    printMatrix(medianRows(rowRounds), medianRaw(rawRounds), medianNoise(noiseRounds), label, cellLoad, threads, rounds);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

runCli('bench:serve', main);
