// SPDX-License-Identifier: MIT
/**
 * @file `npm run bench:train`: one full IGN training step (four applications of f, backward, Adam;
 * the default MNIST f and the `paper` preset of training/config.ts) in onnxruntime-node, against
 * the same step in PyTorch when `/usr/bin/python3 -c 'import torch'` works. Rounds alternate ORT
 * and PyTorch (a persistent Python child), so the two never share the cores; a 2048³ MatMul in ORT
 * gives the machine's ceiling in each round. FLOPs are counted from the step graph itself (useful
 * work only; the one-hot im2col Convs on their own line). Both sides start from the same weights,
 * BN statistics and batch (written once to a raw float32 file the PyTorch child reads), and their
 * first-step losses must agree to 1e-4 relative (printed; the exit code is 1 otherwise). Peak RSS
 * is reported per batch size for both processes.
 *
 *   npm run bench:train
 *   npm run bench:train -- --batches 64,256 --rounds 3 --steps 3 --warmup 1 --threads 2 --no-torch
 *   (--threads defaults to all cores, for ORT and PyTorch alike)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, resolveConfig } from '../training/config.ts';
import type { TrainConfig } from '../training/config.ts';
import { countFlops, deadNodes, largestOutputs } from '../training/bench/flops.ts';
import { MatMulCeiling } from '../training/bench/matmul-ceiling.ts';
import { OrtStepBench, stepSpec } from '../training/bench/ort-step.ts';
import type { ReferenceTensor } from '../training/bench/ort-step.ts';
import { peakRssMiB, resetPeakRss } from '../training/bench/rss.ts';
import { flopSummary, loopLine, markdownTable, spreadLine } from '../training/bench/report.ts';
import { measureTrainLoop } from '../training/bench/train-loop.ts';
import type { BatchResult } from '../training/bench/report.ts';
import { busyFraction } from '../training/bench/cpu-load.ts';
import { TorchChild, torchAvailable } from '../training/bench/torch-child.ts';
import { parseFlags, runCli } from './cli.ts';

const IMAGE_SHAPE = [1, 28, 28] as const;
const TORCH_SCRIPT = fileURLToPath(new URL('./bench-train-torch.py', import.meta.url));

interface Options {
  batches: number[];
  rounds: number;
  steps: number;
  warmup: number;
  threads: number;
  ceilingN: number;
  python: string;
  torch: boolean;
  /** OMP_WAIT_POLICY of the PyTorch child (see startTorch). */
  ompWait: 'passive' | 'active';
  /** Timed windows of the trainer's own loop per batch size (0: skip it). */
  loopWindows: number;
}

/** Steps per window of the trainer's loop (its log interval); the first window is warm-up. */
const LOOP_WINDOW = 5;

function positiveInt(name: string, text: string): number {
  const v = Number(text);
  if (!Number.isInteger(v) || v < 1) throw new ConfigError(`--${name} must be a positive integer, got ${text}`);
  return v;
}

const HELP = `One IGN training step in onnxruntime-node against the same step in PyTorch, with the MatMul ceiling.

usage: npm run bench:train -- [flags]
  --batches <list>     batch sizes (default 64,256)
  --rounds <n>         alternating ORT / PyTorch rounds (default 3)
  --steps <n>          timed steps per round (default 3)
  --warmup <n>         untimed steps first (default 1)
  --threads <n>        threads for ORT and PyTorch (default: all cores)
  --ceiling-n <n>      size of the square MatMul that measures the ceiling (default 2048)
  --python <path>      Python with torch (default /usr/bin/python3)
  --no-torch           ORT only
  --omp-wait <passive|active>  OMP_WAIT_POLICY of the PyTorch child (default passive)
  --loop-windows <n>   then npm run train's own loop (preset projector: mixture source, EMA, log)
                       for ${LOOP_WINDOW}·(n+1) steps, the first ${LOOP_WINDOW} untimed, against the bench's s/step
                       (default 2; 0 skips it)`;

function parseOptions(argv: readonly string[]): Options {
  const { values } = parseFlags(
    argv,
    {
      batches: { type: 'string', default: '64,256' },
      rounds: { type: 'string', default: '3' },
      steps: { type: 'string', default: '3' },
      warmup: { type: 'string', default: '1' },
      threads: { type: 'string', default: String(availableParallelism()) },
      'ceiling-n': { type: 'string', default: '2048' },
      python: { type: 'string', default: '/usr/bin/python3' },
      'no-torch': { type: 'boolean', default: false },
      'omp-wait': { type: 'string', default: 'passive' },
      'loop-windows': { type: 'string', default: '2' },
    },
    false,
    HELP,
  );
  const ompWait = values['omp-wait'];
  if (ompWait !== 'passive' && ompWait !== 'active') throw new ConfigError(`--omp-wait must be passive or active, got ${ompWait}`);
  return {
    batches: values.batches.split(',').map((b) => positiveInt('batches', b.trim())),
    rounds: positiveInt('rounds', values.rounds),
    steps: positiveInt('steps', values.steps),
    warmup: Number(values.warmup),
    threads: positiveInt('threads', values.threads),
    ceilingN: positiveInt('ceiling-n', values['ceiling-n']),
    python: values.python,
    torch: !values['no-torch'],
    ompWait,
    loopWindows: values['loop-windows'] === '0' ? 0 : positiveInt('loop-windows', values['loop-windows']),
  };
}

const loadLine = (label: string): string => {
  const [l1, l5, l15] = loadavg().map((v) => v.toFixed(2));
  return `load average ${label}: ${l1} ${l5} ${l15} (1/5/15 min) on ${availableParallelism()} cores`;
};

async function startTorch(opts: Options): Promise<TorchChild | null> {
  if (!opts.torch) return null;
  if (!torchAvailable(opts.python)) {
    console.log(`PyTorch reference skipped: ${opts.python} -c 'import torch' failed`);
    return null;
  }
  // libgomp's default spin-wait collapses when other processes hold the cores (measured 2–28 s per
  // batch-64 step vs 1.2 s passive on a loaded 2-core machine); passive waiting costs little when idle.
  const child = TorchChild.start(opts.python, TORCH_SCRIPT, opts.threads, { OMP_WAIT_POLICY: opts.ompWait.toUpperCase() });
  const info = await child.request<{
    torch: string;
    threads: number;
    blas: { mapped: string[]; alternative: string | null; config: string[] };
  }>({ cmd: 'info' });
  console.log(`PyTorch ${info.torch}, ${info.threads} threads; BLAS mapped: ${info.blas.mapped.join(', ') || '(none found)'}`);
  console.log(`  OMP_WAIT_POLICY=${opts.ompWait.toUpperCase()}`);
  console.log(
    `  update-alternatives libblas.so.3-x86_64-linux-gnu = ${info.blas.alternative ?? '(unknown)'}; torch build: ${info.blas.config.join(', ')}`,
  );
  return child;
}

function describeGraph(bench: OrtStepBench, batch: number): { dense: number; total: number } {
  const report = countFlops(bench.usefulGraph());
  for (const line of flopSummary(report, batch)) console.log(line);
  const dead = deadNodes(bench.graph);
  console.log(
    `  dead nodes (reach no output, ORT runs them anyway): ${dead.length}${
      dead.length > 0
        ? ` e.g. ${dead
            .slice(0, 3)
            .map((n) => n.name)
            .join(', ')}`
        : ''
    }`,
  );
  const big = largestOutputs(bench.graph, 3).map(
    (o) => `${o.node.name} [${o.value.shape.join(',')}] ${((o.elements * 4) / 2 ** 20).toFixed(0)} MiB`,
  );
  console.log(`  largest intermediates: ${big.join('; ')}`);
  console.log(`  graph build ${bench.buildMs.toFixed(0)} ms, session create ${bench.createMs.toFixed(0)} ms`);
  return { dense: report.dense, total: report.total };
}

/** Losses compared between the two frameworks on step 1, and the tolerance (relative). */
const COMPARED_LOSSES = ['total', 'rec', 'idem', 'tight'] as const;
const LOSS_TOLERANCE = 1e-4;

/** One raw float32 file with every tensor back to back, and its manifest for the child. */
function writeReference(dir: string, batch: number, tensors: readonly ReferenceTensor[]): Record<string, unknown> {
  const total = tensors.reduce((a, t) => a + t.data.length, 0);
  const all = new Float32Array(total);
  let offset = 0;
  const entries = tensors.map((t) => {
    all.set(t.data, offset);
    const entry = { name: t.name, shape: t.shape, offset };
    offset += t.data.length;
    return entry;
  });
  const path = join(dir, `reference-${batch}.f32`);
  writeFileSync(path, new Uint8Array(all.buffer));
  return { path, entries };
}

/** Prints both frameworks' step-1 losses; true when every one agrees within LOSS_TOLERANCE. */
function compareFirstLosses(batch: number, ours: Record<string, number>, theirs: Record<string, number>): boolean {
  let worst = 0;
  const parts = COMPARED_LOSSES.map((k) => {
    const [a, b] = [ours[`loss.${k}`]!, theirs[k]!];
    const rel = Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);
    worst = Math.max(worst, rel);
    return `${k} ${a.toPrecision(7)} / ${b.toPrecision(7)}`;
  });
  const ok = worst <= LOSS_TOLERANCE;
  console.log(
    `  step-1 losses ORT / PyTorch (same weights and batch): ${parts.join(', ')}; worst relative difference ` +
      `${worst.toExponential(2)} ${ok ? `≤ ${LOSS_TOLERANCE}` : `> ${LOSS_TOLERANCE}: THE TWO SIDES DO NOT COMPUTE THE SAME STEP`}`,
  );
  return ok;
}

async function benchBatch(
  config: TrainConfig,
  batch: number,
  opts: Options,
  torch: TorchChild | null,
  ceiling: MatMulCeiling,
  dir: string,
): Promise<BatchResult> {
  const spec = stepSpec(config, IMAGE_SHAPE, batch);
  resetPeakRss();
  const ort = await OrtStepBench.create(spec, { threads: opts.threads, seed: config.seed, lr: config.optim.lr });
  try {
    const flops = describeGraph(ort, batch);
    await ort.run(Math.max(1, opts.warmup));
    let lossesAgree: boolean | null = null;
    if (torch) {
      const tensors = writeReference(dir, batch, ort.referenceTensors());
      const setup = {
        cmd: 'setup',
        batch,
        imageShape: IMAGE_SHAPE,
        layers: spec.arch.layers,
        norm: config.model.norm,
        loss: config.loss,
        optim: config.optim,
        seed: config.seed,
        tensors,
      };
      await torch.request(setup);
      const first = await torch.request<{ losses: Record<string, number>[] }>({ cmd: 'run', steps: Math.max(1, opts.warmup) });
      lossesAgree = compareFirstLosses(batch, ort.firstLosses!, first.losses[0]!);
    }
    const result: BatchResult = {
      batch,
      ort: [],
      torch: torch ? [] : null,
      denseFlops: flops.dense,
      totalFlops: flops.total,
      ceilings: [],
      background: [],
      lossesAgree,
      ortPeakMiB: null,
      torchPeakMiB: null,
      loop: null,
    };
    for (let round = 1; round <= opts.rounds; round++) {
      const busy = await busyFraction(1000);
      if (busy !== null) result.background.push(busy);
      result.ort.push(...(await ort.run(opts.steps)));
      if (torch) result.torch!.push(...(await torch.request<{ seconds: number[] }>({ cmd: 'run', steps: opts.steps })).seconds);
      result.ceilings.push(await ceiling.measure(2));
      process.stderr.write(`  batch ${batch} round ${round}/${opts.rounds} done\n`);
    }
    result.ortPeakMiB = peakRssMiB();
    if (torch) result.torchPeakMiB = (await torch.request<{ peakMiB: number | null }>({ cmd: 'rss' })).peakMiB;
    return result;
  } finally {
    await ort.release();
  }
}

async function main(argv: string[]): Promise<undefined> {
  const opts = parseOptions(argv);
  const config = resolveConfig({ preset: 'paper' });
  const started = performance.now();
  console.log(loadLine('at start'));
  if (loadavg()[0]! > 0.5 * availableParallelism()) {
    console.log('NOTE: the machine is busy (1-min load above half the cores): absolute times are inflated and noisy; ratios hold better.');
  }
  const { model } = config;
  console.log(
    `model: ${model.arch} latent ${model.latent} width ${model.width} norm ${model.norm}; preset ${config.preset} ` +
      `(${config.loss.distance}, λ ${config.loss.weights.rec}/${config.loss.weights.idem}/${config.loss.weights.tight}, clamp ${config.loss.clamp}); ` +
      `Adam lr ${config.optim.lr} β (${config.optim.beta1}, ${config.optim.beta2}); ${opts.threads} intra-op threads`,
  );
  console.log(`timing: ${opts.warmup} warm-up step(s), then ${opts.rounds} rounds × ${opts.steps} steps per framework, alternating`);
  const torch = await startTorch(opts);
  const ceiling = await MatMulCeiling.create(opts.ceilingN, opts.threads);
  const dir = mkdtempSync(join(tmpdir(), 'ign-bench-'));
  const rows: BatchResult[] = [];
  try {
    for (const batch of opts.batches) rows.push(await benchBatch(config, batch, opts, torch, ceiling, dir));
    // After every bench session is released and its peak RSS read: the trainer's dataset and
    // sessions stay resident afterwards and would inflate the next batch's peak.
    if (opts.loopWindows > 0) {
      for (const row of rows) row.loop = await measureTrainLoop(row.batch, opts.threads, LOOP_WINDOW, opts.loopWindows, config.model);
    }
  } finally {
    await torch?.close();
    await ceiling.release();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`\nMatMul ceiling: ${opts.ceilingN}³ in ORT, ${opts.threads} threads, best of 2 per round (median used)`);
  for (const r of rows) console.log(spreadLine(r));
  console.log(`\n${markdownTable(rows)}\n`);
  for (const line of rows.map(loopLine)) if (line) console.log(line);
  console.log(`${loadLine('at end')}; wall ${((performance.now() - started) / 1000).toFixed(1)} s`);
  if (rows.some((r) => r.lossesAgree === false)) {
    console.log('FAILED: the step-1 losses of ORT and PyTorch differ by more than 1e-4 relative (see above)');
    process.exitCode = 1;
  }
}

runCli('bench:train', main);
