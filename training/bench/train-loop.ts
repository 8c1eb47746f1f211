// SPDX-License-Identifier: MIT
/**
 * @file The end-to-end line of `npm run bench:train`: the trainer's own loop (`train()`, as
 * `npm run train` runs it: data batching, noise and mixture sources from the prefetch worker, Adam
 * scalars, EMA, progress and log.jsonl) for the bench's model and batch, with the `projector`
 * preset — the same step graph as the bench's `paper` step (same loss), plus all the host-side work
 * the shipped recipe adds. Its s/step is read from the trainer's log windows after a warm-up
 * window, so it compares with the bench's s/step of session.run alone.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from '../config.ts';
import type { ConfigOverrides } from '../config.ts';
import { train } from '../trainer/trainer.ts';

export interface TrainLoopResult {
  preset: string;
  /** Timed steps (after the warm-up window). */
  steps: number;
  secondsPerStep: number;
  /** Share of the timed wall time spent outside session.run. */
  hostShare: number;
}

/** The trainer's log windows: one JSON line per `logEvery` steps with steps_per_s and host_share. */
interface LogWindow {
  steps_per_s?: number;
  host_share?: number;
}

/**
 * Runs `window` warm-up steps then `windows` timed windows of `window` steps each, on MNIST, in a
 * temporary folder; `model` overrides the config's model as the bench's does (none: the default f).
 */
export async function measureTrainLoop(
  batch: number,
  threads: number,
  window: number,
  windows: number,
  model: ConfigOverrides['model'] = {},
): Promise<TrainLoopResult> {
  const out = mkdtempSync(join(tmpdir(), 'ign-bench-train-'));
  try {
    const config = resolveConfig({
      preset: 'projector',
      model,
      batch,
      steps: window * (windows + 1),
      logEvery: window,
      sampleEvery: 0,
      checkpointEvery: 0,
      threads,
      out,
    });
    await train(config, { progressStream: { write: () => true, isTTY: false } });
    const timed = readFileSync(join(out, 'log.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as LogWindow)
      .filter((w) => w.steps_per_s !== undefined)
      .slice(1);
    // Each window lasts window / steps_per_s seconds, host_share of it outside session.run.
    const seconds = timed.reduce((s, w) => s + window / w.steps_per_s!, 0);
    const host = timed.reduce((s, w) => s + (w.host_share! * window) / w.steps_per_s!, 0);
    return {
      preset: config.preset,
      steps: timed.length * window,
      secondsPerStep: seconds / (timed.length * window),
      hostShare: host / seconds,
    };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
