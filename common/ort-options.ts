// SPDX-License-Identifier: MIT
/**
 * @file ONNX Runtime session options and the execution-provider decision, shared by training
 * (`training/runtime/ort.ts`) and the server (`server/inference/ort-runtime.ts`). Pure: no
 * onnxruntime-node import here, so each side keeps its one importer and both make the same choice.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * `webgpu` is ONNX Runtime's bundled WebGPU provider (Dawn over Vulkan on Linux): no extra binaries,
 * any GPU with a Vulkan driver. It runs inference only: ORT 1.30's WebGPU kernels have no
 * BatchNormalization training mode, so the training step cannot run there (docs/serving.md).
 */
export type ExecutionProviderChoice = 'auto' | 'cuda' | 'webgpu' | 'cpu';

/** The providers a session can end on. */
export type ProviderName = 'cuda' | 'webgpu' | 'cpu';

/** The choices training accepts: every provider that can run the training step. */
export const TRAINING_PROVIDER_CHOICES = ['auto', 'cuda', 'cpu'] as const;

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

/**
 * null when the Vulkan loader that ORT's WebGPU provider (Dawn) opens is on this host, else why not.
 * Necessary, not sufficient: a GPU driver must stand behind it, which only creating a session tells.
 */
export function vulkanLoaderMissing(env: Readonly<Record<string, string | undefined>> = process.env): string | null {
  const dirs = [...(env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean), ...LIBRARY_DIRS];
  return dirs.some((dir) => existsSync(join(dir, 'libvulkan.so.1'))) ? null : 'libvulkan.so.1 not found';
}

/** What to try first: a GPU provider, or CPU directly (with the reason when a GPU was wanted but absent). */
export type ProviderPlan = { readonly first: 'cuda' | 'webgpu' } | { readonly first: 'cpu'; readonly fallbackReason: string | null };

/**
 * ORT does not fall back from a GPU provider to CPU by itself, so the fallback is ours: `cpu` never
 * tries a GPU, `cuda` fails loudly when the driver is missing, `auto` tries CUDA only where it looks
 * usable. `webgpu` is only ever explicit: there is no cheap test for a Vulkan adapter, and Dawn
 * reports a missing one itself when the session is created ("Failed to get a WebGPU adapter").
 */
export function planProvider(choice: ExecutionProviderChoice, unavailable: string | null = cudaUnavailableReason()): ProviderPlan {
  if (choice === 'cpu') return { first: 'cpu', fallbackReason: null };
  if (choice === 'webgpu') return { first: 'webgpu' };
  if (unavailable === null) return { first: 'cuda' };
  if (choice === 'cuda') throw new Error(`execution provider cuda requested but CUDA is unavailable: ${unavailable}`);
  return { first: 'cpu', fallbackReason: unavailable };
}

export type ProviderEntry = { readonly name: 'cuda'; readonly deviceId: number } | 'webgpu' | 'cpu';

/**
 * ORT's provider list for a plan: a GPU provider keeps CPU behind it for any op it lacks (ORT also
 * places shape computations there on purpose).
 */
export function providerList(first: ProviderName, deviceId: number): ProviderEntry[] {
  if (first === 'cuda') return [{ name: 'cuda', deviceId }, 'cpu'];
  return first === 'webgpu' ? ['webgpu', 'cpu'] : ['cpu'];
}

const PROVIDER_LABEL: Readonly<Record<ProviderName, string>> = { cuda: 'CUDA', webgpu: 'WebGPU', cpu: 'CPU' };

/** One line for a failed GPU session (ORT's messages run over many lines). */
export function providerFailureReason(provider: ProviderName, err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  // Dawn's adapter failure follows a long source-location prefix; the sentence after it is the news.
  const line = /Failed to get a WebGPU adapter[^\n]*/.exec(message)?.[0] ?? message.split('\n')[0] ?? '';
  return `${PROVIDER_LABEL[provider]} session failed: ${line}`;
}

/** A session and the provider it runs on; fallbackReason says why it is on CPU when a GPU was wanted. */
export interface OpenedOnProvider<S> {
  session: S;
  provider: ProviderName;
  fallbackReason: string | null;
}

/**
 * Opens a session by `planProvider(choice)`: the planned GPU provider (CPU behind it), and on `auto`
 * CPU again when creating the GPU session fails; an explicit GPU choice fails with the one-line
 * reason instead. `open` receives ORT's provider list and does the creating, so each side keeps its
 * own onnxruntime-node import.
 */
export async function openWithFallback<S>(
  choice: ExecutionProviderChoice,
  deviceId: number,
  open: (providers: ProviderEntry[]) => Promise<S>,
  plan: ProviderPlan = planProvider(choice),
): Promise<OpenedOnProvider<S>> {
  if (plan.first === 'cpu') return { session: await open(providerList('cpu', 0)), provider: 'cpu', fallbackReason: plan.fallbackReason };
  try {
    return { session: await open(providerList(plan.first, deviceId)), provider: plan.first, fallbackReason: null };
  } catch (err) {
    const reason = providerFailureReason(plan.first, err);
    if (choice !== 'auto') throw new Error(reason);
    return { session: await open(providerList('cpu', 0)), provider: 'cpu', fallbackReason: reason };
  }
}
