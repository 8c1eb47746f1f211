// SPDX-License-Identifier: MIT
/**
 * @file ONNX Runtime session options and the execution-provider decision, shared by training
 * (`training/runtime/ort.ts`) and the server (`server/inference/ort-runtime.ts`). Pure: no
 * onnxruntime-node import here, so each side keeps its one importer and both make the same choice.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export type ExecutionProviderChoice = 'auto' | 'cuda' | 'cpu';

/** The part of ORT's SessionOptions we set; structurally assignable to `InferenceSession.SessionOptions`. */
export interface BaseSessionOptions {
  readonly intraOpNumThreads: number;
  readonly interOpNumThreads: 1;
  readonly executionMode: 'sequential';
  readonly graphOptimizationLevel: 'all';
  readonly logSeverityLevel: 3;
  readonly extra: { readonly session: { readonly intra_op: { readonly allow_spinning: '0' } } };
}

/** Session options of every session in the project, training steps and server workers alike. */
export function baseSessionOptions(threads: number): BaseSessionOptions {
  return {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
    // Spinning intra-op threads cost 2× step time whenever anything else shares the cores
    // (bench:train measured 0.74–1.09 s vs 1.75–2.15 s per step), and server workers share cores
    // with each other; on a quiet machine it is a wash.
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
}

const LIBRARY_DIRS = [
  '/usr/lib/x86_64-linux-gnu',
  '/usr/lib/aarch64-linux-gnu',
  '/usr/lib64',
  '/usr/lib',
  '/usr/local/nvidia/lib64',
  '/usr/local/cuda/lib64',
  '/usr/local/cuda/compat',
  '/usr/lib/wsl/lib',
];

/**
 * null when CUDA looks usable, else the reason it is not. Creating a CUDA session on a host without
 * a driver throws (or crashes natively), so auto mode looks for `libcuda.so.1` (on
 * `LD_LIBRARY_PATH` and the usual library folders) and a `/dev/nvidia*` device before asking ORT.
 */
export function cudaUnavailableReason(env: Readonly<Record<string, string | undefined>> = process.env): string | null {
  const dirs = [...(env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean), ...LIBRARY_DIRS];
  if (!dirs.some((dir) => existsSync(join(dir, 'libcuda.so.1')))) return 'libcuda.so.1 not found';
  let devices: string[] = [];
  try {
    devices = readdirSync('/dev').filter((name) => name.startsWith('nvidia'));
  } catch {
    devices = [];
  }
  return devices.length === 0 ? 'no /dev/nvidia* device' : null;
}

/** What to try first: CUDA, or CPU directly (with the reason when a GPU was wanted but absent). */
export type ProviderPlan = { readonly first: 'cuda' } | { readonly first: 'cpu'; readonly fallbackReason: string | null };

/**
 * ORT does not fall back from CUDA to CPU by itself, so the fallback is ours: `cpu` never tries
 * CUDA, `cuda` fails loudly when the driver is missing, `auto` tries CUDA only where it looks usable.
 */
export function planProvider(choice: ExecutionProviderChoice, unavailable: string | null = cudaUnavailableReason()): ProviderPlan {
  if (choice === 'cpu') return { first: 'cpu', fallbackReason: null };
  if (unavailable === null) return { first: 'cuda' };
  if (choice === 'cuda') throw new Error(`execution provider cuda requested but CUDA is unavailable: ${unavailable}`);
  return { first: 'cpu', fallbackReason: unavailable };
}

/** ORT's provider list for a plan: CUDA keeps CPU behind it for any op the CUDA provider lacks. */
export function providerList(first: 'cuda' | 'cpu', deviceId: number): ({ readonly name: 'cuda'; readonly deviceId: number } | 'cpu')[] {
  return first === 'cuda' ? [{ name: 'cuda', deviceId }, 'cpu'] : ['cpu'];
}

/** One line for a failed CUDA session (ORT's messages run over many lines). */
export function cudaFailureReason(err: unknown): string {
  return `CUDA session failed: ${err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err)}`;
}
