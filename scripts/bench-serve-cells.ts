// SPDX-License-Identifier: MIT
/**
 * @file bench:serve's measurement cells: what one closed-loop cell sends (route, headers, body) and
 * how it runs (its length, the load generator's client), and the child-process runner both the
 * cells and raw session.run go through.
 */
import { spawn } from 'node:child_process';
import type { BenchServer } from './bench-serve-server.ts';
import type { LoadClient, LoopResult, LoopSpec } from './bench-serve-closed-loop.ts';

export const GENERATE_BODY = JSON.stringify({ count: 1, steps: 1, seed: 7 });
const BOUNDARY = 'benchBoundary';

export interface Cell {
  route: string;
  url: string;
  headers: Record<string, string>;
  body: Buffer;
}

export /** How each closed-loop cell runs: its length and the load generator's HTTP client. */
interface CellLoad {
  readonly seconds: number;
  readonly client: LoadClient;
}

/** Runs a child `node --import tsx <script> ...args` and resolves with its stdout once it exits 0. */
export function runScript(script: string, args: string[]): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    child.on('exit', (code) => {
      if (code === 0) resolve(out);
      else reject(new Error(`${script} exited with ${code}`));
    });
  });
}

export async function load(cell: Cell, connections: number, { seconds, client }: CellLoad): Promise<LoopResult> {
  const spec: LoopSpec = { url: cell.url, connections, seconds, headers: cell.headers, bodyBase64: cell.body.toString('base64'), client };
  return JSON.parse(await runScript('scripts/bench-serve-closed-loop.ts', [JSON.stringify(spec)])) as LoopResult;
}

export const generateCell = (base: string): Cell => ({
  route: '/generate',
  url: `${base}/generate`,
  headers: { 'content-type': 'application/json', accept: 'image/png' },
  body: Buffer.from(GENERATE_BODY),
});

/** /project with a PNG the model itself produced (exactly the model's size) and steps as a form field. */
export async function projectCell(server: BenchServer): Promise<Cell> {
  const res = await fetch(`${server.url}/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: GENERATE_BODY,
  });
  if (res.status !== 200) throw new Error(`seed image: /generate answered ${res.status}`);
  const png = Buffer.from(await res.arrayBuffer());
  const body = Buffer.concat([
    Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="image"; filename="x.png"\r\nContent-Type: image/png\r\n\r\n`),
    png,
    Buffer.from(`\r\n--${BOUNDARY}\r\nContent-Disposition: form-data; name="steps"\r\n\r\n1\r\n--${BOUNDARY}--\r\n`),
  ]);
  return {
    route: '/project',
    url: `${server.url}/project`,
    headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}`, accept: 'image/png' },
    body,
  };
}
