// SPDX-License-Identifier: MIT
/**
 * @file The only training-side module importing onnxruntime-node. Sessions are created from our own
 * serialized bytes with the project's session options and provider plan (`common/ort-options.ts`,
 * shared with the server): ORT throws instead of falling back from CUDA, so the fallback is ours and logged.
 */
import { availableParallelism } from 'node:os';
import ort from 'onnxruntime-node';
import { baseSessionOptions, openWithFallback } from '../../common/ort-options.ts';
import type { ExecutionProviderChoice, ProviderName } from '../../common/ort-options.ts';
import type { DType, Shape, TypedData } from '../onnx/ir.ts';

export type OptimizationLevel = 'disabled' | 'basic' | 'extended' | 'all';

export interface SessionOptions {
  ep?: ExecutionProviderChoice;
  /** Intra-op threads; default: all cores (availableParallelism()). */
  threads?: number;
  deviceId?: number;
  log?: (msg: string) => void;
  /** ORT graph optimisation level; default 'all' (includes the NCHWc layout transformer on CPU). */
  optimization?: OptimizationLevel;
  /** Memory-pattern planning across runs of the same shapes; default on (ORT's default; StepRunner turns it off). */
  memPattern?: boolean;
  /** Write ORT's per-node profile to `<prefix>_<timestamp>.json`; Session.endProfiling() returns the path. */
  profilePrefix?: string;
}

/** The default intra-op thread count: every core this process may use. */
export const defaultThreads = (): number => availableParallelism();

/** The project's session options plus the training-side knobs (optimisation level, memory pattern, profiling). */
function trainingOptions(o: SessionOptions): ort.InferenceSession.SessionOptions {
  return {
    ...baseSessionOptions(o.threads ?? defaultThreads()),
    graphOptimizationLevel: o.optimization ?? 'all',
    enableMemPattern: o.memPattern ?? true,
    ...(o.profilePrefix ? { enableProfiling: true, profileFilePrefix: o.profilePrefix } : {}),
  };
}

export interface HostTensor {
  readonly dtype: DType;
  readonly shape: Shape;
  readonly data: TypedData;
}

export type Feeds = Readonly<Record<string, HostTensor>>;

export interface Session {
  readonly ep: ProviderName;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Feeds, fetch?: readonly string[]): Promise<Record<string, HostTensor>>;
  /** Stops profiling (profilePrefix) and writes the JSON profile `<prefix>_<timestamp>.json`. */
  endProfiling(): void;
  release(): Promise<void>;
}

async function createRaw(bytes: Uint8Array, o: SessionOptions): Promise<{ s: ort.InferenceSession; ep: ProviderName }> {
  const opened = await openWithFallback(o.ep ?? 'cpu', o.deviceId ?? 0, (providers) =>
    ort.InferenceSession.create(bytes, { ...trainingOptions(o), executionProviders: providers }),
  );
  if (opened.fallbackReason !== null) o.log?.(`GPU not used (${opened.fallbackReason}); training on CPU`);
  return { s: opened.session, ep: opened.provider };
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
    endProfiling: () => {
      s.endProfiling();
    },
    release: () => s.release(),
  };
}
