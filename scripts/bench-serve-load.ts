// SPDX-License-Identifier: MIT
/**
 * @file One autocannon cell for bench-serve.ts, run through autocannon's CLI in its own process
 * (`--json`), reduced to the figures the report prints.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';

export interface LoadSpec {
  readonly url: string;
  readonly connections: number;
  readonly seconds: number;
  readonly method: 'GET' | 'POST';
  readonly body?: string;
  readonly headers?: readonly string[];
  /** Path of an autocannon `--form` JSON file (multipart upload). */
  readonly form?: string;
  /** Fixed offered rate in requests/s over all connections (open-ish loop); unset = closed loop. */
  readonly overallRate?: number;
}

export interface LoadResult {
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly ok: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly statusCounts: Record<string, number>;
}

interface AutocannonJson {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  duration: number;
  '2xx': number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodeStats?: Record<string, { count: number }>;
}

function cliArgs(spec: LoadSpec): string[] {
  const args = ['--json', '--no-progress', '-c', String(spec.connections), '-d', String(spec.seconds), '-m', spec.method, '-t', '30'];
  for (const h of spec.headers ?? []) args.push('-H', h);
  if (spec.body !== undefined) args.push('-b', spec.body);
  if (spec.form !== undefined) args.push('-F', spec.form);
  if (spec.overallRate !== undefined) args.push('-R', String(spec.overallRate));
  return [...args, spec.url];
}

export function runAutocannon(spec: LoadSpec): Promise<LoadResult> {
  const cli = createRequire(import.meta.url).resolve('autocannon/autocannon.js');
  const child = spawn(process.execPath, [cli, ...cliArgs(spec)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    err += c.toString();
  });
  return new Promise((resolve, reject) => {
    child.on('exit', (code) => {
      if (code !== 0) {
        reject(new Error(`autocannon exited with ${code}: ${err.slice(-500)}`));
        return;
      }
      const r = JSON.parse(out) as AutocannonJson;
      const statusCounts = Object.fromEntries(Object.entries(r.statusCodeStats ?? {}).map(([s, v]) => [s, v.count]));
      resolve({
        requestsPerSecond: r.requests.total / r.duration,
        p50Ms: r.latency.p50,
        p99Ms: r.latency.p99,
        ok: r['2xx'],
        non2xx: r.non2xx,
        errors: r.errors,
        timeouts: r.timeouts,
        statusCounts,
      });
    });
  });
}
