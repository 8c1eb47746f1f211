// SPDX-License-Identifier: MIT
/**
 * Shared server-test setup: a tiny real ONNX model in a temp dir served by the real worker pool,
 * a deterministic slow Generator for queue tests, the openapi.yaml response validators, and image
 * fixtures made in-process with sharp.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { loadModelCard, type LoadedModel } from '../../common/model-card.ts';
import { createApp, type IgnApp } from '../../server/app.ts';
import { parseConfig, type ServerConfig } from '../../server/config.ts';
import { CancelledError, type Generator, type GeneratorJob, type GeneratorResult } from '../../server/inference/generator.ts';
import { materialiseInput } from '../../server/inference/job-input.ts';
import { WorkerPool, poolOptionsFor, type PoolOptions } from '../../server/inference/pool.ts';
import type { NoiseStats } from '../../common/noise.ts';
import { compileComponents, loadOpenApi } from '../../server/openapi.ts';
import { writeTinyModelDir, type TinyModelOptions } from '../support/tiny-model.ts';

export const silentLogger = pino({ level: 'silent' });

export function testConfig(env: Record<string, string> = {}): ServerConfig {
  return parseConfig({ IGN_EP: 'cpu', WORKERS: '1', THREADS_PER_WORKER: '1', ...env });
}

export async function tinyModelDir(opts: TinyModelOptions, name = 'tiny'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'ign-server-'));
  await writeTinyModelDir(dir, opts, name);
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export type PoolHooks = Partial<Pick<PoolOptions, 'logger' | 'onRestart' | 'onGiveUp'>>;

export interface RealServer {
  readonly handle: IgnApp;
  readonly pool: WorkerPool;
  readonly model: LoadedModel;
  readonly config: ServerConfig;
  close(): Promise<void>;
}

/** The real app on the real pool serving a tiny model (1×8×8 unless told), built as main.ts builds it. */
export async function startRealApp(
  opts: Partial<TinyModelOptions> = {},
  env: Record<string, string> = {},
  poolHooks: PoolHooks = {},
): Promise<RealServer> {
  const { dir, cleanup } = await tinyModelDir({ channels: 1, height: 8, width: 8, ...opts });
  const config = testConfig({ MODEL_DIR: dir, ...env });
  const model = await loadModelCard(dir);
  const { logger = silentLogger, ...hooks } = poolHooks;
  const pool = new WorkerPool(poolOptionsFor(config, model, logger, hooks));
  await pool.start();
  const handle = createApp({ config, models: [{ model, generator: pool }], logger: silentLogger });
  return {
    handle,
    pool,
    model,
    config,
    close: async () => {
      await pool.close();
      await cleanup();
    },
  };
}

/**
 * Deterministic slow Generator: each step takes `stepMs` and maps x → 0.5·x + 0.25, checking the
 * signal between steps like the worker does. Records every batch it ran.
 */
export class SlowGenerator implements Generator {
  readonly batches: GeneratorJob[] = [];
  cancelled = 0;
  constructor(
    private readonly stepMs: number,
    /** Noise statistics for noise parts (Gaussian noise needs none). */
    private readonly noiseStats: NoiseStats | null = null,
  ) {}
  ready(): boolean {
    return true;
  }
  info() {
    return { provider: 'cpu' as const, fallback: false, ortVersion: 'test' };
  }
  async close(): Promise<void> {
    /* nothing held */
  }
  async run(job: GeneratorJob, signal: AbortSignal): Promise<GeneratorResult> {
    this.batches.push(job);
    const outputs: Float32Array[] = [];
    const residuals = new Float32Array(job.steps * job.count);
    let x = materialiseInput(job.input, this.noiseStats);
    for (let s = 0; s < job.steps; s++) {
      await new Promise((resolve) => setTimeout(resolve, this.stepMs));
      if (signal.aborted) {
        this.cancelled++;
        throw new CancelledError('cancelled');
      }
      const y = x.map((v) => 0.5 * v + 0.25);
      const size = y.length / job.count;
      for (let n = 0; n < job.count; n++) {
        let sum = 0;
        for (let i = n * size; i < (n + 1) * size; i++) sum += (y[i]! - x[i]!) ** 2;
        residuals[s * job.count + n] = Math.sqrt(sum / size);
      }
      if (job.keepSteps || s === job.steps - 1) outputs.push(y);
      x = y;
    }
    return { outputs, residuals, computeSeconds: (job.steps * this.stepMs) / 1000 };
  }
}

/** A loaded model card for app tests that use a fake generator (the ONNX file is never opened). */
export async function fakeModel(): Promise<{ model: LoadedModel; cleanup: () => Promise<void> }> {
  const { dir, cleanup } = await tinyModelDir({ channels: 1, height: 8, width: 8 });
  return { model: await loadModelCard(dir), cleanup };
}

const schemaOf = compileComponents(loadOpenApi().components);

/** Asserts `body` matches components/schemas/<name> of openapi.yaml. */
export function assertSchema(name: string, body: unknown): void {
  const validate = schemaOf(name);
  assert.ok(validate(body), `${name}: ${JSON.stringify(validate.errors)} for ${JSON.stringify(body).slice(0, 300)}`);
}

const STACK_TEXT = /at .+\.(js|ts):\d+|node_modules/;

/** The error contract: status, code, request id in body and header, no stack text. */
export function assertError(
  res: { status: number; body: unknown; text: string; headers: Record<string, string> },
  status: number,
  code: string,
): void {
  assert.equal(res.status, status, `expected ${status} ${code}, got ${res.status} ${res.text.slice(0, 200)}`);
  assertSchema('Error', res.body);
  const body = res.body as { error: { code: string }; requestId: string };
  assert.equal(body.error.code, code);
  assert.equal(body.requestId, res.headers['x-request-id']);
  assert.doesNotMatch(res.text, STACK_TEXT);
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
  body: unknown;
}

/** POST exact bytes over a real socket (superagent re-encodes compressed bodies). */
export async function rawPost(app: IgnApp['app'], path: string, headers: Record<string, string>, body: Buffer): Promise<RawResponse> {
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    return await new Promise<RawResponse>((resolve, reject) => {
      const req = httpRequest(
        { host: '127.0.0.1', port, path, method: 'POST', headers: { ...headers, 'Content-Length': String(body.length) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = null;
            try {
              parsed = JSON.parse(text);
            } catch {
              parsed = null;
            }
            resolve({ status: res.statusCode ?? 0, headers: res.headers as Record<string, string>, text, body: parsed });
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  } finally {
    server.closeAllConnections();
    server.close();
  }
}
