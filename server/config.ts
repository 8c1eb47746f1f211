// SPDX-License-Identifier: MIT
/**
 * @file Server configuration: every environment variable is parsed once at boot into a frozen,
 * typed object. Parsing stops at the first bad value with a ConfigError naming the variable, so a
 * typo fails the deploy instead of the first request. Integers are strict decimal strings (no
 * coercion of "1e3", "0x10" or "4.0").
 */
import { availableParallelism } from 'node:os';
import type { ExecutionProviderChoice } from '../common/ort-options.ts';

export type { ExecutionProviderChoice } from '../common/ort-options.ts';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface ServerConfig {
  readonly port: number;
  readonly host: string;
  /** MODEL_DIR: serve this one model folder (any load failure stops the boot), or null. */
  readonly modelDir: string | null;
  /** MODEL_REPOSITORY: serve every model folder under it. MODEL_DIR, when set, wins: an image can set a repository and a deploy still pick one model. */
  readonly modelRepository: string;
  /** MODEL_NAME: the model requests get when they name none (null: mnist, else the only one). */
  readonly modelName: string | null;
  /** STRICT_MODELS: a repository model that fails to load stops the boot instead of being listed unavailable. */
  readonly strictModels: boolean;
  readonly ep: ExecutionProviderChoice;
  readonly cudaDeviceId: number;
  readonly requireGpu: boolean;
  readonly workers: number;
  readonly threadsPerWorker: number;
  readonly maxBatchSize: number;
  readonly maxQueueDelayMs: number;
  readonly maxQueue: number;
  readonly requestTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly httpRequestTimeoutMs: number;
  readonly maxUploadBytes: number;
  readonly maxUploads: number;
  readonly maxUploadQueue: number;
  readonly uploadWaitMs: number;
  readonly maxInputPixels: number;
  readonly drainMs: number;
  readonly workerRestartBaseMs: number;
  readonly workerRestartMaxMs: number;
  readonly workerMaxFailures: number;
  readonly apiKeys: readonly string[];
  readonly logLevel: LogLevel;
  readonly maxSteps: number;
  readonly maxCount: number;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

type Env = Readonly<Record<string, string | undefined>>;

function readInt(env: Env, key: string, fallback: number, min: number, max: number): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(`${key} must be a decimal integer, got "${raw}"`);
  const value = Number(raw.trim());
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(`${key} must be in [${min}, ${max}], got ${raw}`);
  }
  return value;
}

function readEnum<T extends string>(env: Env, key: string, fallback: T, allowed: readonly T[]): T {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  const found = allowed.find((v) => v === raw.trim().toLowerCase());
  if (found === undefined) throw new ConfigError(`${key} must be one of ${allowed.join('|')}, got "${raw}"`);
  return found;
}

function readBool(env: Env, key: string): boolean {
  const raw = (env[key] ?? '').trim().toLowerCase();
  if (raw === '' || raw === '0' || raw === 'false') return false;
  if (raw === '1' || raw === 'true') return true;
  throw new ConfigError(`${key} must be 0|1|true|false, got "${env[key] ?? ''}"`);
}

function readApiKeys(env: Env): string[] {
  const raw = env.API_KEYS ?? '';
  if (raw.trim() === '') return [];
  const keys = raw.split(',').map((k) => k.trim());
  if (keys.some((k) => k.length < 16)) throw new ConfigError('API_KEYS entries must be at least 16 characters');
  return keys;
}

function readHost(env: Env): string {
  const host = (env.HOST ?? '0.0.0.0').trim();
  if (!/^[A-Za-z0-9.:-]+$/.test(host)) throw new ConfigError(`HOST is not a hostname or address: "${host}"`);
  return host;
}

/** Parses the environment; throws ConfigError at the first invalid variable. */
export function parseConfig(env: Env): ServerConfig {
  const cores = availableParallelism();
  const workers = readInt(env, 'WORKERS', 1, 1, 64);
  const modelDir = (env.MODEL_DIR ?? '').trim() || null;
  const modelRepository = (env.MODEL_REPOSITORY ?? '').trim();
  if (modelDir !== null && modelRepository !== '')
    throw new ConfigError('set MODEL_DIR (one model) or MODEL_REPOSITORY (a folder of models), not both');
  const modelName = (env.MODEL_NAME ?? '').trim() || null;
  if (modelName !== null && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(modelName))
    throw new ConfigError(`MODEL_NAME is not a model name: "${modelName}"`);
  const headersTimeoutMs = readInt(env, 'HEADERS_TIMEOUT_MS', 5_000, 100, 600_000);
  const config: ServerConfig = {
    port: readInt(env, 'PORT', 8080, 0, 65535),
    host: readHost(env),
    modelDir,
    modelRepository: modelRepository || 'models',
    modelName,
    strictModels: readBool(env, 'STRICT_MODELS'),
    ep: readEnum<ExecutionProviderChoice>(env, 'IGN_EP', 'auto', ['auto', 'cuda', 'webgpu', 'cpu']),
    cudaDeviceId: readInt(env, 'CUDA_DEVICE_ID', 0, 0, 63),
    requireGpu: readBool(env, 'REQUIRE_GPU'),
    workers,
    // One core is left to the event loop: at 32 connections on 2 cores, 1 ORT
    // thread served 5 % more /generate requests than 2 (4 of 5 alternating A/B pairs).
    threadsPerWorker: readInt(env, 'THREADS_PER_WORKER', Math.max(1, Math.floor((cores - 1) / workers)), 1, 256),
    maxBatchSize: readInt(env, 'MAX_BATCH_SIZE', 8, 1, 256),
    maxQueueDelayMs: readInt(env, 'MAX_QUEUE_DELAY_MS', 0, 0, 1_000),
    maxQueue: readInt(env, 'MAX_QUEUE', 64, 0, 100_000),
    requestTimeoutMs: readInt(env, 'REQUEST_TIMEOUT_MS', 30_000, 10, 600_000),
    headersTimeoutMs,
    httpRequestTimeoutMs: readInt(env, 'HTTP_REQUEST_TIMEOUT_MS', 15_000, headersTimeoutMs, 3_600_000),
    maxUploadBytes: readInt(env, 'MAX_UPLOAD_BYTES', 8 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    maxUploads: readInt(env, 'MAX_UPLOADS', 4, 1, 1024),
    maxUploadQueue: readInt(env, 'MAX_UPLOAD_QUEUE', 128, 0, 100_000),
    uploadWaitMs: readInt(env, 'UPLOAD_WAIT_MS', 5_000, 1, 600_000),
    maxInputPixels: readInt(env, 'MAX_INPUT_PIXELS', 4096 * 4096, 1, 268_402_689),
    drainMs: readInt(env, 'DRAIN_MS', 25_000, 0, 600_000),
    workerRestartBaseMs: readInt(env, 'WORKER_RESTART_BASE_MS', 100, 1, 600_000),
    workerRestartMaxMs: readInt(env, 'WORKER_RESTART_MAX_MS', 10_000, 1, 3_600_000),
    workerMaxFailures: readInt(env, 'WORKER_MAX_FAILURES', 5, 1, 1_000),
    apiKeys: Object.freeze(readApiKeys(env)),
    logLevel: readEnum<LogLevel>(env, 'LOG_LEVEL', 'info', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    maxSteps: readInt(env, 'MAX_STEPS', 20, 1, 1_000),
    maxCount: readInt(env, 'MAX_COUNT', 16, 1, 1_024),
  };
  if (config.requireGpu && config.ep === 'cpu') throw new ConfigError('REQUIRE_GPU=1 contradicts IGN_EP=cpu');
  return Object.freeze(config);
}

/** The config as logged at boot: API keys replaced by their count. */
export function redactConfig(config: ServerConfig): Record<string, unknown> {
  return { ...config, apiKeys: `[${config.apiKeys.length} redacted]` };
}
