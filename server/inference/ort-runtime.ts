// SPDX-License-Identifier: MIT
/**
 * @file The only server module that imports onnxruntime-node, and it is loaded only inside worker
 * threads: `session.run` blocks the thread that calls it (its async signature notwithstanding), so
 * the event loop that answers HTTP never touches ORT. The provider choice is `planProvider` of
 * `common/ort-options.ts`: ORT does not fall back from a GPU provider to CPU by itself, so auto mode
 * retries `['cpu']` and says why (docs/serving.md, "Execution provider").
 */
import { threadId } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import type { GeneratorJob } from './generator.ts';
import { baseSessionOptions, openWithFallback, providerList } from '../../common/ort-options.ts';
import type { OpenedOnProvider, ProviderName } from '../../common/ort-options.ts';
import type { SessionSpec } from './protocol.ts';
import { withDeviceLock } from './device-lock.ts';

export interface OpenedSession {
  readonly provider: ProviderName;
  /** Why auto mode ended on CPU; null when no GPU was wanted or a GPU provider was used. */
  readonly fallbackReason: string | null;
  readonly ortVersion: string;
  runSteps(run: StepRun): Promise<StepResult>;
  release(): Promise<void>;
}

/** A job whose input the worker has laid out (job-input.ts). */
export interface StepRun extends Omit<GeneratorJob, 'input'> {
  readonly input: Float32Array;
  readonly isCancelled: () => boolean;
}

export type StepResult =
  | { readonly kind: 'done'; readonly outputs: Float32Array[]; readonly residuals: Float32Array }
  | { readonly kind: 'cancelled' }
  | { readonly kind: 'non_finite'; readonly step: number };

/** The workers' session options; bench-serve-raw.ts and check:gpu reuse them so their figures match the server. */
export function sessionOptions(
  threads: number,
  providers: ort.InferenceSession.ExecutionProviderConfig[],
): ort.InferenceSession.SessionOptions {
  return { ...baseSessionOptions(threads), executionProviders: providers };
}

function createWithProvider(spec: SessionSpec): Promise<OpenedOnProvider<ort.InferenceSession>> {
  return openWithFallback(spec.ep, spec.cudaDeviceId, (providers) =>
    ort.InferenceSession.create(spec.modelPath, sessionOptions(spec.threads, providers)),
  );
}

function checkSignature(session: ort.InferenceSession, spec: SessionSpec): void {
  if (!session.inputNames.includes(spec.inputName)) {
    throw new Error(`model has no input "${spec.inputName}" (inputs: ${session.inputNames.join(', ')})`);
  }
  if (!session.outputNames.includes(spec.outputName)) {
    throw new Error(`model has no output "${spec.outputName}" (outputs: ${session.outputNames.join(', ')})`);
  }
}

/** RMS per pixel of a − b for each of `count` images. */
function rmsPerImage(a: Float32Array, b: Float32Array, count: number, into: Float32Array, offset: number): void {
  const size = a.length / count;
  for (let n = 0; n < count; n++) {
    let sum = 0;
    for (let i = n * size; i < (n + 1) * size; i++) sum += (a[i]! - b[i]!) ** 2;
    into[offset + n] = Math.sqrt(sum / size);
  }
}

function allFinite(values: Float32Array): boolean {
  for (const v of values) if (!Number.isFinite(v)) return false;
  return true;
}

/** The generation file on the provider f ended on (it is f with other statistics: same ops, same needs). */
async function openGenerator(spec: SessionSpec, provider: ProviderName): Promise<ort.InferenceSession | null> {
  if (spec.generatorPath === null) return null;
  const generator = await ort.InferenceSession.create(
    spec.generatorPath,
    sessionOptions(spec.threads, providerList(provider, spec.cudaDeviceId)),
  );
  checkSignature(generator, spec);
  return generator;
}

/**
 * Runs `fn` under the process's WebGPU lock (device-lock.ts) when this spec runs on WebGPU, which
 * only an explicit IGN_EP=webgpu does; directly otherwise.
 */
function deviceGuard(spec: SessionSpec): <T>(fn: () => Promise<T>) => Promise<T> {
  const lock = spec.ep === 'webgpu' ? spec.deviceLock : undefined;
  return (fn) => (lock === undefined ? fn() : withDeviceLock(lock, threadId + 1, fn));
}

async function createBoth(
  spec: SessionSpec,
): Promise<Awaited<ReturnType<typeof createWithProvider>> & { generator: ort.InferenceSession | null }> {
  const created = await createWithProvider(spec);
  checkSignature(created.session, spec);
  try {
    return { ...created, generator: await openGenerator(spec, created.provider) };
  } catch (err) {
    await created.session.release();
    throw new Error(`generation file ${spec.generatorPath ?? ''}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export async function openSession(spec: SessionSpec): Promise<OpenedSession> {
  const onDevice = deviceGuard(spec);
  const { session, provider, fallbackReason, generator } = await onDevice(() => createBoth(spec));
  const [c, h, w] = spec.dims;
  const expected = c * h * w;
  const runOnce = async (on: ort.InferenceSession, x: Float32Array, count: number): Promise<Float32Array> => {
    const feeds = { [spec.inputName]: new ort.Tensor('float32', x, [count, c, h, w]) };
    const result = await on.run(feeds);
    const y = result[spec.outputName];
    if (y?.type !== 'float32' || y.size !== count * expected) {
      throw new Error(
        `output "${spec.outputName}" has ${y?.size ?? 0} ${y?.type ?? 'missing'} values, expected ${count * expected} float32`,
      );
    }
    return new Float32Array(y.data as Float32Array);
  };
  return {
    provider,
    fallbackReason,
    ortVersion: ort.env.versions.node ?? ort.env.versions.common,
    runSteps: ({ input, count, steps, keepSteps, useGenerationFile, isCancelled }) =>
      onDevice(async (): Promise<StepResult> => {
        const residuals = new Float32Array(steps * count);
        const outputs: Float32Array[] = [];
        let previous = input;
        for (let step = 0; step < steps; step++) {
          if (isCancelled()) return { kind: 'cancelled' };
          const next = await runOnce(step === 0 && useGenerationFile === true && generator !== null ? generator : session, previous, count);
          if (!allFinite(next)) return { kind: 'non_finite', step: step + 1 };
          rmsPerImage(next, previous, count, residuals, step * count);
          if (keepSteps || step === steps - 1) outputs.push(next);
          previous = next;
        }
        return { kind: 'done', outputs, residuals };
      }),
    release: () =>
      onDevice(async () => {
        await session.release();
        await generator?.release();
      }),
  };
}
