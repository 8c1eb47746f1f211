// SPDX-License-Identifier: MIT
/**
 * @file Inference worker thread: owns one InferenceSession, warms it up, then runs f^k jobs one at
 * a time. Cancellation is a shared flag read between steps, since a running ORT call cannot be
 * pre-empted. Any startup failure is reported as 'fatal' and the thread exits.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { materialiseInput } from './job-input.ts';
import { openSession, type OpenedSession } from './ort-runtime.ts';
import type { FromWorker, RunRequest, SessionSpec, ToWorker } from './protocol.ts';

const port = parentPort;
if (port === null) throw new Error('worker.ts must run as a worker thread');
const spec = workerData as SessionSpec;

function post(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(message, transfer);
}

async function warmUp(session: OpenedSession): Promise<void> {
  const [c, h, w] = spec.dims;
  const input = new Float32Array(c * h * w);
  await session.runSteps({ input, count: 1, steps: 1, keepSteps: false, isCancelled: () => false });
  if (spec.generatorPath !== null)
    await session.runSteps({ input, count: 1, steps: 1, keepSteps: false, useGenerationFile: true, isCancelled: () => false });
}

async function handleRun(session: OpenedSession, job: RunRequest): Promise<void> {
  const started = performance.now();
  try {
    const input = materialiseInput(job.input, spec.noiseStats);
    const result = await session.runSteps({ ...job, input, isCancelled: () => Atomics.load(job.cancelFlag, 0) !== 0 });
    if (result.kind === 'cancelled') {
      post({ type: 'cancelled', id: job.id });
    } else if (result.kind === 'non_finite') {
      post({ type: 'failed', id: job.id, code: 'invalid_model_output', message: `model produced NaN or Inf at step ${result.step}` });
    } else {
      const computeSeconds = (performance.now() - started) / 1000;
      const transfer = [...result.outputs.map((o) => o.buffer as ArrayBuffer), result.residuals.buffer as ArrayBuffer];
      post({ type: 'result', id: job.id, outputs: result.outputs, residuals: result.residuals, computeSeconds }, transfer);
    }
  } catch (err) {
    post({ type: 'failed', id: job.id, code: 'inference_failed', message: err instanceof Error ? err.message : String(err) });
  }
}

async function main(): Promise<void> {
  let session: OpenedSession;
  try {
    session = await openSession(spec);
    await warmUp(session);
  } catch (err) {
    post({ type: 'fatal', message: err instanceof Error ? err.message : String(err) });
    process.exit(1);
  }
  post({ type: 'ready', provider: session.provider, fallbackReason: session.fallbackReason, ortVersion: session.ortVersion });
  // Jobs are serialised: the pool sends one at a time, the chain guards against overlap anyway.
  let chain = Promise.resolve();
  port!.on('message', (message: ToWorker) => {
    if (message.type === 'close') {
      chain = chain.then(() => session.release()).finally(() => process.exit(0));
      return;
    }
    chain = chain.then(() => handleRun(session, message));
  });
}

void main();
