// SPDX-License-Identifier: MIT
/**
 * @file A closed-loop HTTP load generator with sub-millisecond latency (autocannon's histogram
 * counts whole milliseconds): `connections` keep-alive connections, each sending its next request
 * when the previous answer has been read. The first second is warm-up and not counted.
 *
 * Usage: tsx scripts/bench-serve-closed-loop.ts '<json LoopSpec>'   → one JSON line (LoopResult)
 */
import { Agent, request } from 'node:http';

export interface LoopSpec {
  readonly url: string;
  readonly connections: number;
  readonly seconds: number;
  readonly headers: Record<string, string>;
  /** The request body, base64 (JSON text or a whole multipart body). */
  readonly bodyBase64: string;
}

export interface LoopResult {
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly statusCounts: Record<string, number>;
  readonly errors: number;
}

const WARMUP_MS = 1000;

function once(agent: Agent, url: URL, headers: Record<string, string>, body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method: 'POST',
        headers: { ...headers, 'Content-Length': String(body.length) },
      },
      (res) => {
        res.on('data', () => undefined);
        res.on('end', () => {
          resolve(res.statusCode ?? 0);
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function run(spec: LoopSpec): Promise<LoopResult> {
  const url = new URL(spec.url);
  const body = Buffer.from(spec.bodyBase64, 'base64');
  const agent = new Agent({ keepAlive: true, maxSockets: spec.connections });
  const latencies: number[] = [];
  const statusCounts: Record<string, number> = {};
  let errors = 0;
  const start = performance.now();
  const countFrom = start + WARMUP_MS;
  const end = countFrom + spec.seconds * 1000;
  await Promise.all(
    Array.from({ length: spec.connections }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        try {
          const status = await once(agent, url, spec.headers, body);
          if (t0 >= countFrom) {
            latencies.push(performance.now() - t0);
            statusCounts[status] = (statusCounts[status] ?? 0) + 1;
          }
        } catch {
          errors++;
        }
      }
    }),
  );
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
  return { requestsPerSecond: latencies.length / spec.seconds, p50Ms: at(0.5), p99Ms: at(0.99), statusCounts, errors };
}

const arg = process.argv[2];
if (arg !== undefined) process.stdout.write(`${JSON.stringify(await run(JSON.parse(arg) as LoopSpec))}\n`);
