// SPDX-License-Identifier: MIT
/**
 * @file The only training-side module importing onnxruntime-node. Sessions are created from our own
 * serialized bytes; the execution provider is chosen explicitly (ORT throws instead of falling back
 * from CUDA, so the fallback to CPU is ours and logged).
 */
import { existsSync, readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import ort from 'onnxruntime-node';
import type { DType, Shape, TypedData } from '../onnx/ir.ts';

export type ExecutionProvider = 'auto' | 'cuda' | 'cpu';

export type OptimizationLevel = 'disabled' | 'basic' | 'extended' | 'all';

export interface SessionOptions {
  ep?: ExecutionProvider;
  /** Intra-op threads; default: all cores (availableParallelism()). */
  threads?: number;
  deviceId?: number;
  log?: (msg: string) => void;
  /** ORT graph optimisation level; default 'all' (includes the NCHWc layout transformer on CPU). */
  optimization?: OptimizationLevel;
  /** Memory-pattern planning across runs of the same shapes; default on (ORT's default). */
  memPattern?: boolean;
  /** Write ORT's per-node profile to `<prefix>_<timestamp>.json`; Session.endProfiling() returns the path. */
  profilePrefix?: string;
}

export interface HostTensor {
  readonly dtype: DType;
  readonly shape: Shape;
  readonly data: TypedData;
}

export type Feeds = Readonly<Record<string, HostTensor>>;

export interface Session {
  readonly ep: 'cuda' | 'cpu';
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Feeds, fetch?: readonly string[]): Promise<Record<string, HostTensor>>;
  /** Stops profiling (profilePrefix) and writes the JSON profile `<prefix>_<timestamp>.json`. */
  endProfiling(): void;
  release(): Promise<void>;
}

/** A CUDA attempt on a host without a driver can crash natively, so look before asking ORT. */
export function cudaLooksAvailable(): boolean {
  const libDirs = ['/usr/lib/x86_64-linux-gnu', '/usr/lib64', '/usr/local/cuda/lib64', '/usr/lib/wsl/lib'];
  const hasLib = libDirs.some((d) => existsSync(`${d}/libcuda.so.1`));
  const hasDev = existsSync('/dev') && readdirSync('/dev').some((n) => n.startsWith('nvidia'));
  return hasLib && hasDev;
}

/** The default intra-op thread count: every core this process may use. */
export const defaultThreads = (): number => availableParallelism();

function baseOptions(o: SessionOptions): ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: o.threads ?? defaultThreads(),
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: o.optimization ?? 'all',
    enableMemPattern: o.memPattern ?? true,
    ...(o.profilePrefix ? { enableProfiling: true, profileFilePrefix: o.profilePrefix } : {}),
    logSeverityLevel: 3,
    // Spinning intra-op threads cost 2× step time whenever anything else shares the cores
    // (bench:train measured 0.74–1.09 s vs 1.75–2.15 s per step); on a quiet machine it is a wash.
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
}

async function createRaw(bytes: Uint8Array, o: SessionOptions): Promise<{ s: ort.InferenceSession; ep: 'cuda' | 'cpu' }> {
  const ep = o.ep ?? 'cpu';
  const wantCuda = ep === 'cuda' || (ep === 'auto' && cudaLooksAvailable());
  if (wantCuda) {
    try {
      const s = await ort.InferenceSession.create(bytes, {
        ...baseOptions(o),
        executionProviders: [{ name: 'cuda', deviceId: o.deviceId ?? 0 }],
      });
      return { s, ep: 'cuda' };
    } catch (err) {
      if (ep === 'cuda') throw new Error(`CUDA execution provider unavailable: ${(err as Error).message}`);
      o.log?.(`CUDA execution provider failed to load, falling back to CPU: ${(err as Error).message}`);
    }
  }
  const s = await ort.InferenceSession.create(bytes, { ...baseOptions(o), executionProviders: ['cpu'] });
  return { s, ep: 'cpu' };
}

function toOrt(t: HostTensor): ort.Tensor {
  return new ort.Tensor(t.dtype === 'float32' ? 'float32' : t.dtype, t.data, [...t.shape]);
}

function fromOrt(t: ort.Tensor): HostTensor {
  const dtype = t.type as DType;
  return { dtype, shape: t.dims, data: t.data as TypedData };
}

export async function createSession(bytes: Uint8Array, options: SessionOptions = {}): Promise<Session> {
  const { s, ep } = await createRaw(bytes, options);
  return {
    ep,
    inputNames: s.inputNames,
    outputNames: s.outputNames,
    async run(feeds, fetch) {
      const ortFeeds: Record<string, ort.Tensor> = {};
      for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = toOrt(t);
      const result = fetch ? await s.run(ortFeeds, [...fetch]) : await s.run(ortFeeds);
      const out: Record<string, HostTensor> = {};
      for (const [name, t] of Object.entries(result)) out[name] = fromOrt(t);
      return out;
    },
    endProfiling: () => { s.endProfiling(); },
    release: () => s.release(),
  };
}
