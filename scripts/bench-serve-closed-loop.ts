// SPDX-License-Identifier: MIT
/**
 * @file A closed-loop HTTP load generator with sub-millisecond latency (autocannon's histogram
 * counts whole milliseconds): `connections` keep-alive connections, each sending its next request
 * when the previous answer has been read. The first second is warm-up and not counted.
 *
 * It speaks HTTP/1.1 over raw sockets (http-wire.ts): one request, serialised once, written per
 * round trip, and the answer read by its Content-Length. The load generator shares the cores with
 * the systems it measures, and node:http's client costs several times more CPU per request; that
 * CPU is taken from whichever system uses both cores (the server), not from the single-threaded
 * peer, so a heavier client biases the comparison. Its own CPU per counted request is reported;
 * `client: 'node-http'` runs the same loop on node:http's Agent for comparison.
 *
 * Usage: tsx scripts/bench-serve-closed-loop.ts '<json LoopSpec>'   → one JSON line (LoopResult)
 */
import { Agent, request as httpRequest } from 'node:http';
import { WireConnection, serializeRequest } from './http-wire.ts';

export interface LoopSpec {
  readonly url: string;
  readonly connections: number;
  readonly seconds: number;
  readonly headers: Record<string, string>;
  /** The request body, base64 (JSON text or a whole multipart body). */
  readonly bodyBase64: string;
  /** 'wire' (default): raw sockets (http-wire.ts); 'node-http': node:http's client. */
  readonly client?: LoadClient;
}

export type LoadClient = 'wire' | 'node-http';

export interface LoopResult {
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly statusCounts: Record<string, number>;
  readonly errors: number;
  /** The load generator's own CPU time (user + system) per counted response, µs. */
  readonly clientCpuUsPerRequest?: number;
}

const WARMUP_MS = 1000;

/** A round trip on one connection: resolves with the response status once the body has been read. */
type RoundTrip = () => Promise<number>;

function wireClient(url: URL, spec: LoopSpec): { connect: () => RoundTrip; close: () => void } {
  const request = serializeRequest(url, 'POST', spec.headers, Buffer.from(spec.bodyBase64, 'base64'));
  const open: WireConnection[] = [];
  return {
    connect: () => {
      const connection = new WireConnection(url);
      open.push(connection);
      return () => connection.roundTrip(request);
    },
    close: () => {
      for (const connection of open) connection.close();
    },
  };
}

function nodeHttpClient(url: URL, spec: LoopSpec): { connect: () => RoundTrip; close: () => void } {
  const body = Buffer.from(spec.bodyBase64, 'base64');
  const agent = new Agent({ keepAlive: true, maxSockets: spec.connections });
  const headers = { ...spec.headers, 'Content-Length': String(body.length) };
  const once: RoundTrip = () =>
    new Promise((resolve, reject) => {
      const req = httpRequest(
        { agent, host: url.hostname, port: url.port, path: url.pathname + url.search, method: 'POST', headers },
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
  return {
    connect: () => once,
    close: () => {
      agent.destroy();
    },
  };
}

async function run(spec: LoopSpec): Promise<LoopResult> {
  const url = new URL(spec.url);
  const client = (spec.client ?? 'wire') === 'wire' ? wireClient(url, spec) : nodeHttpClient(url, spec);
  const latencies: number[] = [];
  const statusCounts: Record<string, number> = {};
  let errors = 0;
  const start = performance.now();
  const countFrom = start + WARMUP_MS;
  const end = countFrom + spec.seconds * 1000;
  // Re-read when the warm-up ends, so the CPU counted is the counted requests'.
  let cpuAtCountFrom = process.cpuUsage();
  const warmupTimer = setTimeout(() => {
    cpuAtCountFrom = process.cpuUsage();
  }, WARMUP_MS);
  const connections = Array.from({ length: spec.connections }, () => client.connect());
  await Promise.all(
    connections.map(async (roundTrip) => {
      while (performance.now() < end) {
        const t0 = performance.now();
        try {
          const status = await roundTrip();
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
  clearTimeout(warmupTimer);
  const cpu = process.cpuUsage(cpuAtCountFrom);
  client.close();
  latencies.sort((a, b) => a - b);
  const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
  return {
    requestsPerSecond: latencies.length / spec.seconds,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    statusCounts,
    errors,
    clientCpuUsPerRequest: latencies.length > 0 ? (cpu.user + cpu.system) / latencies.length : Number.NaN,
  };
}

const arg = process.argv[2];
if (arg !== undefined) process.stdout.write(`${JSON.stringify(await run(JSON.parse(arg) as LoopSpec))}\n`);
