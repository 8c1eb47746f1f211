// SPDX-License-Identifier: MIT
/**
 * @file `npm run bench:serve -- --batch-caps 8,16,32`: the server's /generate at 32 connections
 * under each MAX_BATCH_SIZE, a fresh server per cap, caps alternating within each round. A cap at
 * the offered concurrency merges every waiting request into one batch, so the event loop and the
 * inference worker take turns instead of overlapping (docs/serving.md, "Batching").
 */
import { startBenchServer } from './bench-serve-server.ts';
import { generateCell, load, type CellLoad } from './bench-serve-cells.ts';
import { fmt, rangeText, type Row } from './bench-serve-rounds.ts';

const CONNECTIONS = 32;

/** One round: every cap once, in the order given. */
export async function measureBatchCaps(modelDir: string, caps: readonly number[], cellLoad: CellLoad): Promise<Row[]> {
  const rows: Row[] = [];
  for (const cap of caps) {
    const server = await startBenchServer(modelDir, { MAX_BATCH_SIZE: String(cap), MAX_QUEUE: '1024', MAX_UPLOADS: '64' });
    try {
      rows.push({
        system: `MAX_BATCH_SIZE ${cap}`,
        route: '/generate',
        concurrency: CONNECTIONS,
        load: await load(generateCell(server.url), CONNECTIONS, cellLoad),
      });
    } finally {
      await server.stop();
    }
  }
  return rows;
}

export function printBatchCaps(rows: readonly Row[], label: string, { seconds, client }: CellLoad, rounds: number): void {
  console.log(
    `\n## bench:serve --batch-caps — model: ${label}; server /generate at ${CONNECTIONS} connections; ${seconds} s per cell after 1 s warm-up; medians of ${rounds} round(s) (range in brackets); load generator client: ${client}\n`,
  );
  console.log('| server | responses/s | p50 ms | p99 ms | errors |');
  console.log('|---|---:|---:|---:|---:|');
  for (const r of rows) {
    console.log(
      `| ${r.system} | ${fmt(r.load.requestsPerSecond)}${rangeText(r)} | ${fmt(r.load.p50Ms, 2)} | ${fmt(r.load.p99Ms, 2)} | ${r.load.errors} |`,
    );
  }
}
