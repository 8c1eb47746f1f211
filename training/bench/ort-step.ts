// SPDX-License-Identifier: MIT
/**
 * @file The IGN training step as the trainer runs it (buildStepGraph + StepRunner, the trainer's
 * initialState: DCGAN init, zero Adam moments; frozen copy fed by aliases), on fixed seeded x and z, timed per session.run.
 *
 * API:
 *   stepSpec(config, imageShape, batch) → StepGraphSpec
 *   OrtStepBench.create(spec, { threads, seed }) → OrtStepBench
 *   bench.graph, bench.buildMs, bench.createMs
 *   bench.run(steps) → Promise<number[]>   wall seconds per step (feeds, run, state swap)
 *   bench.firstLosses                      loss outputs of the first step (null before it)
 *   bench.referenceTensors()              initial parameters, BN statistics, x and z by name (for
 *                                          the PyTorch side: same weights, same batch)
 *   bench.endProfiling(), bench.release()
 */
import { Rng } from '../../common/rng.ts';
import { numel } from '../onnx/ir.ts';
import type { Graph } from '../onnx/ir.ts';
import { adamStepScalars } from '../optim/adam.ts';
import { StepRunner } from '../runtime/step-runner.ts';
import type { HostTensor, SessionOptions } from '../runtime/ort.ts';
import { initialState } from '../trainer/run-state.ts';
import { architecture } from '../ign/model.ts';
import { buildStepGraph } from '../ign/train-graph.ts';
import type { StepGraph, StepGraphOptions, StepGraphSpec } from '../ign/train-graph.ts';
import type { TrainConfig } from '../config.ts';

export function stepSpec(config: TrainConfig, imageShape: readonly [number, number, number], batch: number): StepGraphSpec {
  return { arch: architecture(config.model, imageShape), model: config.model, loss: config.loss, optim: config.optim, batch };
}

/** x uniform in [−1, 1] (image range), z standard normal: the data never changes the work done. */
function batchFeeds(spec: StepGraphSpec, seed: number): Record<string, HostTensor> {
  const rng = new Rng(seed).fork('data');
  const shape = [spec.batch, ...spec.arch.imageShape];
  const x = new Float32Array(numel(shape)).map(() => 2 * rng.uniform() - 1);
  const z = new Float32Array(numel(shape));
  rng.fillNormal(z, 0, 1);
  return { x: { dtype: 'float32', shape, data: x }, z: { dtype: 'float32', shape, data: z } };
}

export interface ReferenceTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export class OrtStepBench {
  private stepCount = 0;
  firstLosses: Record<string, number> | null = null;

  private constructor(
    private readonly runner: StepRunner,
    private readonly step: StepGraph,
    private readonly initial: ReadonlyMap<string, Float32Array>,
    private readonly feeds: Record<string, HostTensor>,
    private readonly lr: number,
    readonly buildMs: number,
    readonly createMs: number,
    private readonly plain: () => Graph,
  ) {}

  static async create(
    spec: StepGraphSpec,
    options: { threads: number; seed: number; lr: number; session?: SessionOptions; graph?: StepGraphOptions },
  ): Promise<OrtStepBench> {
    const t0 = performance.now();
    const step = buildStepGraph(spec, options.graph);
    const t1 = performance.now();
    const state = initialState(step, options.seed);
    const runner = await StepRunner.create(step.graph, {
      state,
      aliases: step.aliases,
      session: { ...options.session, ep: 'cpu', threads: options.threads },
    });
    const t2 = performance.now();
    const plain = (): Graph => buildStepGraph(spec, { ...options.graph, stackConvs: false }).graph;
    return new OrtStepBench(runner, step, state, batchFeeds(spec, options.seed), options.lr, t1 - t0, t2 - t1, plain);
  }

  get graph(): Graph {
    return this.step.graph;
  }

  /**
   * The same step without stacked Convs (stack-conv.ts): the work to count as useful. A stacked
   * Conv also computes the rows that straddle two images, which are sliced away.
   */
  usefulGraph(): Graph {
    return this.plain();
  }

  async run(steps: number): Promise<number[]> {
    const seconds: number[] = [];
    for (let i = 0; i < steps; i++) {
      this.stepCount += 1;
      const scalars = adamStepScalars(this.lr, this.stepCount, this.step.adam);
      const t0 = performance.now();
      const out = await this.runner.run(this.feeds, scalars);
      seconds.push((performance.now() - t0) / 1000);
      this.firstLosses ??= out;
      if (!Number.isFinite(out['loss.total'])) throw new Error(`loss.total is not finite at bench step ${this.stepCount}`);
    }
    return seconds;
  }

  referenceTensors(): ReferenceTensor[] {
    const state = this.step.decls.map((d) => ({ name: d.name, shape: d.shape, data: this.initial.get(d.name)! }));
    const batch = ['x', 'z'].map((name) => ({ name, shape: this.feeds[name]!.shape, data: this.feeds[name]!.data as Float32Array }));
    return [...state, ...batch];
  }

  endProfiling(): void {
    this.runner.endProfiling();
  }

  release(): Promise<void> {
    return this.runner.release();
  }
}
