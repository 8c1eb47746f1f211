// SPDX-License-Identifier: MIT
/**
 * @file `npm run bench:train:profile`: where the IGN training step spends its time, per ORT op type,
 * from ONNX Runtime's own profiler (relative shares hold on a loaded machine, where wall times do
 * not). Same step, model and data as `npm run bench:train`; the MatMul ceiling is measured in the
 * same process right after.
 *
 *   npm run bench:train:profile -- --batch 256 --steps 2 --threads 2 [--optimization all|extended|basic] [--mem-pattern]
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from '../training/config.ts';
import { MatMulCeiling } from '../training/bench/matmul-ceiling.ts';
import { OrtStepBench, stepSpec } from '../training/bench/ort-step.ts';
import { kernelEvents, profileTable, summariseProfile } from '../training/bench/profile.ts';
import { defaultThreads } from '../training/runtime/ort.ts';
import { ConfigError } from '../training/config.ts';
import { parseFlags, runCli } from './cli.ts';
import type { OptimizationLevel } from '../training/runtime/ort.ts';

const LEVELS: readonly OptimizationLevel[] = ['disabled', 'basic', 'extended', 'all'];

const HELP = `Where the IGN training step spends its time, per ONNX Runtime op type, against the MatMul ceiling.

usage: npm run bench:train:profile -- [--batch 256] [--steps 2] [--threads N] [--optimization ${LEVELS.join('|')}] [--mem-pattern]`;

function parse(argv: readonly string[]): {
  batch: number;
  steps: number;
  threads: number;
  optimization: OptimizationLevel;
  memPattern: boolean;
} {
  const { values } = parseFlags(
    argv,
    {
      batch: { type: 'string', default: '256' },
      steps: { type: 'string', default: '2' },
      threads: { type: 'string' },
      optimization: { type: 'string', default: 'all' },
      'mem-pattern': { type: 'boolean', default: false },
    },
    false,
    HELP,
  );
  const int = (name: string, text: string): number => {
    const v = Number(text);
    if (!Number.isInteger(v) || v < 1) throw new ConfigError(`--${name} must be a positive integer, got ${text}`);
    return v;
  };
  const optimization = values.optimization as OptimizationLevel;
  if (!LEVELS.includes(optimization))
    throw new ConfigError(`--optimization must be one of ${LEVELS.join(', ')}, got ${values.optimization}`);
  return {
    batch: int('batch', values.batch),
    steps: int('steps', values.steps),
    threads: values.threads === undefined ? defaultThreads() : int('threads', values.threads),
    optimization,
    memPattern: values['mem-pattern'],
  };
}

async function main(argv: string[]): Promise<undefined> {
  const opts = parse(argv);
  const config = resolveConfig({ preset: 'paper' });
  const dir = mkdtempSync(join(tmpdir(), 'ign-profile-'));
  try {
    const spec = stepSpec(config, [1, 28, 28], opts.batch);
    // Warm-up runs are profiled too; they are excluded by running them in a separate session.
    const warm = await OrtStepBench.create(spec, { threads: opts.threads, seed: config.seed, lr: config.optim.lr });
    await warm.release();
    const bench = await OrtStepBench.create(spec, {
      threads: opts.threads,
      seed: config.seed,
      lr: config.optim.lr,
      session: { optimization: opts.optimization, memPattern: opts.memPattern, profilePrefix: join(dir, 'step') },
    });
    await bench.run(1);
    const seconds = await bench.run(opts.steps);
    bench.endProfiling();
    const graph = bench.usefulGraph();
    await bench.release();
    const file = readdirSync(dir).find((f) => f.startsWith('step') && f.endsWith('.json'));
    if (!file) throw new Error(`ORT wrote no profile under ${dir}`);
    const events = kernelEvents(JSON.parse(readFileSync(join(dir, file), 'utf8')));
    // The first profiled step pays memory-pattern planning; keep only the last `steps` runs' events.
    const perStep = events.length / (opts.steps + 1);
    const rows = summariseProfile(events.slice(Math.round(perStep)), graph, opts.steps);
    const ceiling = await MatMulCeiling.create(2048, opts.threads);
    const gflops = await ceiling.measure(3);
    await ceiling.release();
    const kernelMs = rows.reduce((a, r) => a + r.msPerStep, 0);
    const wallMs = (1000 * seconds.reduce((a, s) => a + s, 0)) / seconds.length;
    console.log(
      `batch ${opts.batch}, ${opts.threads} threads, optimization ${opts.optimization}, mem pattern ${opts.memPattern}: ` +
        `${opts.steps} profiled steps, ${wallMs.toFixed(0)} ms/step wall, ${kernelMs.toFixed(0)} ms/step in kernels; MatMul ceiling ${gflops.toFixed(1)} GFLOP/s`,
    );
    console.log(profileTable(rows, gflops));
  } finally {
    if (process.env.KEEP_PROFILE) console.log(`profile kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

runCli('bench:train:profile', main);
