// SPDX-License-Identifier: MIT
/**
 * @file The training loop: one StepRunner.run per step (x batch, noise z, Adam scalars), a progress
 * bar on stderr, a JSONL log, sample grids every K steps, checkpoints every K steps and at the end,
 * and a clean stop on SIGINT (finish the current step, write a checkpoint, return). Resuming from a
 * checkpoint continues bit-for-bit: the same batches (batcher state), the same noise (per-step
 * streams), the same parameters, moments and BN buffers.
 */
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { shapeSize } from '../../common/fft.ts';
import { sampleNoise } from '../../common/noise.ts';
import { Rng } from '../../common/rng.ts';
import { adamStepScalars } from '../optim/adam.ts';
import type { HostTensor } from '../runtime/ort.ts';
import type { Dataset } from '../data/dataset.ts';
import { skippedFilesLine } from '../data/dataset-args.ts';
import type { RecipeConfig, TrainConfig } from '../config.ts';
import { readCheckpoint, writeCheckpoint } from './checkpoint.ts';
import type { Checkpoint } from './checkpoint.ts';
import { createRunState } from './run-state.ts';
import { NoisePrefetcher, type MixJob } from './noise-prefetch.ts';
import type { RunState } from './run-state.ts';
import { Progress } from './progress.ts';
import type { ProgressStream } from './progress.ts';
import { ForwardRunner } from './forward-runner.ts';
import { writeGridPng } from './image-grid.ts';
import { learningRate } from './lr-schedule.ts';
import { augmentRng } from './noise-stream.ts';
import { augmentRows } from '../data/real-augment.ts';
import { mixtureDrawOf } from '../data/source-mix.ts';
import type { NoiseSpec } from '../../common/noise.ts';

const CHECKPOINT_DIR = 'ckpt';
const LOG_FILE = 'log.jsonl';
const SAMPLE_COLUMNS = 8;

export interface TrainOptions {
  /** Resume from this checkpoint folder; `config` must describe the same model (see resumeConfig). */
  resume?: string;
  dataset?: Dataset;
  /** Stop (with a checkpoint) after this many steps of this call, e.g. to test resume. */
  maxSteps?: number;
  /** Install a SIGINT handler that stops cleanly (CLI). */
  handleSigint?: boolean;
  /** This invocation's command line; it is appended to the checkpoint's list of commands. */
  command?: string;
  progressStream?: ProgressStream;
}

export interface StepRecord {
  step: number;
  epoch: number;
  losses: Record<string, number>;
}

export interface TrainResult {
  step: number;
  totalSteps: number;
  history: StepRecord[];
  checkpointDir: string;
  wallTimeSeconds: number;
  interrupted: boolean;
  /** Every command line that trained the result, the resumed ones first (for the model card). */
  commands: string[];
  run: Pick<RunState, 'imageShape' | 'noiseStats' | 'dataset' | 'config'>;
  tensors: Record<string, Float32Array>;
}

/** The source noise of a run (Hermitian Fourier spectra when the recipe asks for them). */
export function noiseSpec(config: TrainConfig): NoiseSpec {
  return { kind: config.noise, hermitian: config.recipe.hermitian };
}

/** θ as export and sample grids see it: the EMA when the recipe keeps one, else the live state. */
export function exportedTensors(run: Pick<RunState, 'runner' | 'ema'>): Record<string, Float32Array> {
  return { ...run.runner.state(), ...(run.ema?.values() ?? {}) };
}

function tensor(shape: readonly number[], data: Float32Array): HostTensor {
  return { dtype: 'float32', shape, data };
}

/** Fixed z and x for every sample grid of a run. */
function sampleInputs(run: RunState): Float32Array {
  const cols = Math.min(SAMPLE_COLUMNS, run.dataset.n);
  const size = shapeSize(run.imageShape);
  const z = sampleNoise(noiseSpec(run.config), run.noiseStats, run.imageShape, new Rng(run.config.seed).fork('samples'), cols);
  const both = new Float32Array(2 * cols * size);
  both.set(z, 0);
  both.set(run.dataset.slice(0, cols), cols * size);
  return both;
}

async function writeSamples(run: RunState, forward: ForwardRunner, inputs: Float32Array, step: number): Promise<void> {
  const cols = inputs.length / 2 / shapeSize(run.imageShape);
  const half = inputs.length / 2;
  const [f1, f2] = (await forward.run(inputs, exportedTensors(run))) as [Float32Array, Float32Array];
  const row = (a: Float32Array, from: number): { images: Float32Array; count: number } => ({
    images: a.subarray(from, from + half),
    count: cols,
  });
  const rows = [row(inputs, 0), row(f1, 0), row(f2, 0), row(inputs, half), row(f1, half)];
  await writeGridPng(join(run.config.out, 'samples', `step-${String(step).padStart(7, '0')}.png`), rows, run.imageShape);
}

function checkpointOf(run: RunState, step: number, wall: number, commands: readonly string[]): Checkpoint {
  return {
    meta: {
      step,
      config: run.config,
      batcher: run.batcher.state(),
      imageShape: run.imageShape,
      wallTimeSeconds: wall,
      noiseSeed: run.config.seed,
      commands: [...commands],
      dataset: run.dataset.name,
    },
    tensors: { ...run.runner.state(), ...(run.ema?.prefixed() ?? {}) },
    noiseStats: run.noiseStats,
  };
}

export async function train(config: TrainConfig, options: TrainOptions = {}): Promise<TrainResult> {
  const ckpt = options.resume ? await readCheckpoint(options.resume) : undefined;
  const commands = [...(ckpt?.meta.commands ?? []), ...(options.command === undefined ? [] : [options.command])];
  await mkdir(config.out, { recursive: true });
  const run = await createRunState(config, {
    ...(options.dataset ? { dataset: options.dataset } : {}),
    ...(ckpt ? { checkpoint: ckpt } : {}),
  });
  const stop = { requested: false };
  const onSigint = (): void => {
    if (stop.requested) process.exit(130);
    stop.requested = true;
    process.stderr.write('\nSIGINT: finishing this step and writing a checkpoint (Ctrl-C again to abort)\n');
  };
  if (options.handleSigint) process.on('SIGINT', onSigint);
  try {
    return await loop(run, options, commands, stop);
  } finally {
    if (options.handleSigint) process.off('SIGINT', onSigint);
    await run.runner.release();
  }
}

/** Undecodable files of a folder dataset: one line on stderr and one record in log.jsonl. */
function reportSkippedFiles(dataset: Dataset, log: { write: (line: string) => unknown }): void {
  const line = skippedFilesLine(dataset.skipped);
  if (line === null) return;
  process.stderr.write(`${dataset.name}: ${line}\n`);
  log.write(
    `${JSON.stringify({ event: 'skipped_files', dataset: dataset.name, count: dataset.skipped.length, first: dataset.skipped.slice(0, 10) })}\n`,
  );
}

/**
 * A warm start widened from a narrower f, or given normalisation layers its f lacks: one line on
 * stderr and one record in log.jsonl each.
 */
function reportWarmStart(run: RunState, log: { write: (line: string) => unknown }): void {
  if (run.config.recipe.initFrom === null) return;
  if (run.freshNorms.length > 0) {
    process.stderr.write(
      `--init-from ${run.config.recipe.initFrom}: new normalisation on ${run.freshNorms.join(', ')} (fresh, not function-preserving)\n`,
    );
    log.write(`${JSON.stringify({ event: 'fresh_norms', from: run.config.recipe.initFrom, layers: run.freshNorms })}\n`);
  }
  if (run.freshStem) {
    process.stderr.write(
      `--init-from ${run.config.recipe.initFrom}: new stem of ${run.arch.stem} channels (identity at the start: function-preserving)\n`,
    );
    log.write(`${JSON.stringify({ event: 'fresh_stem', from: run.config.recipe.initFrom, channels: run.arch.stem })}\n`);
  }
  if (run.widenedFrom === null) return;
  const layers = run.arch.layers.map((l, i) => ({ layer: l.name, from: run.widenedFrom![i]!, to: l.out })).filter((c) => c.from !== c.to);
  const what = layers.map((c) => `${c.layer} ${c.from}→${c.to}`).join(', ');
  process.stderr.write(`--init-from ${run.config.recipe.initFrom}: widened (function-preserving) ${what}\n`);
  log.write(`${JSON.stringify({ event: 'widened', from: run.config.recipe.initFrom, layers })}\n`);
}

/** Sample grids with fixed z and x, or null when sampling is off. */
async function createSampler(run: RunState): Promise<{ write: (step: number) => Promise<void>; release: () => Promise<void> } | null> {
  const { config } = run;
  if (config.sampleEvery === 0) return null;
  const batch = 2 * Math.min(SAMPLE_COLUMNS, run.dataset.n);
  const forward = await ForwardRunner.create(
    { arch: run.arch, model: config.model, batch, bnMode: 'eval', applications: 2 },
    { ep: config.ep, threads: config.threads },
  );
  const inputs = sampleInputs(run);
  return { write: (step) => writeSamples(run, forward, inputs, step), release: () => forward.release() };
}

/** The prefetcher's mixture-source job, or null when z is noise only. */
function mixJob(recipe: RecipeConfig, dataset: Dataset): MixJob | null {
  const used = recipe.sourceMix > 0 || recipe.sourceBridge > 0;
  return used
    ? {
        p: recipe.sourceMix,
        draw: mixtureDrawOf(recipe),
        bridge: recipe.sourceBridge,
        images: dataset.images,
      }
    : null;
}

/**
 * One optimiser step: the next batch, this step's z (noise and mixture sources, drawn ahead by the
 * prefetcher), the Adam scalars; then the EMA. `timer.runMs` accumulates time in session.run.
 */
async function trainStep(run: RunState, step: number, noise: NoisePrefetcher, timer: StepTimer): Promise<StepRecord> {
  const { config, imageShape } = run;
  const shape = [config.batch, ...imageShape];
  const batch = run.batcher.next();
  const { augment, augmentFamilies } = config.recipe;
  if (augment > 0) augmentRows(batch.images, augment, config.batch, imageShape, augmentRng(config.seed, step), augmentFamilies);
  const z = await noise.take(step);
  const lr = learningRate(config.optim.lr, config.recipe, step, run.totalSteps);
  const t0 = performance.now();
  const losses = await run.runner.run(
    { x: tensor(shape, batch.images), z: tensor(shape, z) },
    adamStepScalars(lr, step, run.stepGraph.adam),
  );
  timer.runMs += performance.now() - t0;
  run.ema?.update(run.runner.state(), step);
  if (!Number.isFinite(losses['loss.total'])) throw new Error(`loss is not finite at step ${step}: ${JSON.stringify(losses)}`);
  return { step, epoch: batch.epoch, losses };
}

/** Wall time of the loop and the part of it spent inside session.run. */
interface StepTimer {
  runMs: number;
}

function speedFields(timer: StepTimer, steps: number, elapsedMs: number): Record<string, number> {
  if (steps === 0 || elapsedMs <= 0) return {};
  return { steps_per_s: Number(((1000 * steps) / elapsedMs).toFixed(3)), host_share: Number((1 - timer.runMs / elapsedMs).toFixed(4)) };
}

async function loop(run: RunState, options: TrainOptions, commands: readonly string[], stop: { requested: boolean }): Promise<TrainResult> {
  const { config } = run;
  const ckptDir = join(config.out, CHECKPOINT_DIR);
  const log = createWriteStream(join(config.out, LOG_FILE), { flags: 'a' });
  reportSkippedFiles(run.dataset, log);
  reportWarmStart(run, log);
  const sampler = await createSampler(run);
  const end = Math.min(run.totalSteps, run.startStep + (options.maxSteps ?? Infinity));
  const progress = new Progress({
    total: run.totalSteps,
    startStep: run.startStep,
    every: config.logEvery,
    ...(options.progressStream ? { stream: options.progressStream } : {}),
  });
  const history: StepRecord[] = [];
  const started = performance.now();
  const wall = (): number => run.wallTimeSeconds + (performance.now() - started) / 1000;
  const noise = new NoisePrefetcher({
    spec: noiseSpec(config),
    stats: run.noiseStats,
    shape: run.imageShape,
    seed: config.seed,
    batch: config.batch,
    mix: mixJob(config.recipe, run.dataset),
  });
  // Speed over the last log window: steps/s and the share of wall time outside session.run.
  let window = { timer: { runMs: 0 }, steps: 0, since: performance.now() };
  let step = run.startStep;
  try {
    while (step < end && !stop.requested) {
      step += 1;
      const record = await trainStep(run, step, noise, window.timer);
      window.steps += 1;
      history.push(record);
      const speed = speedFields(window.timer, window.steps, performance.now() - window.since);
      progress.update(step, record.epoch, record.losses, speed.host_share);
      if (step % config.logEvery === 0 || step === end) {
        log.write(`${JSON.stringify({ ...record, time: Number(wall().toFixed(3)), ...speed })}\n`);
        window = { timer: { runMs: 0 }, steps: 0, since: performance.now() };
      }
      if (sampler && step % config.sampleEvery === 0) await sampler.write(step);
      if (config.checkpointEvery > 0 && step % config.checkpointEvery === 0 && step !== end)
        await writeCheckpoint(ckptDir, checkpointOf(run, step, wall(), commands));
    }
    await writeCheckpoint(ckptDir, checkpointOf(run, step, wall(), commands));
  } finally {
    progress.finish();
    await noise.close();
    await new Promise((resolve) => log.end(resolve));
    await sampler?.release();
  }
  const { dataset, noiseStats, imageShape } = run;
  return {
    step,
    totalSteps: run.totalSteps,
    history,
    checkpointDir: ckptDir,
    wallTimeSeconds: wall(),
    interrupted: stop.requested,
    commands: [...commands],
    run: { imageShape, noiseStats, dataset, config },
    tensors: exportedTensors(run),
  };
}
