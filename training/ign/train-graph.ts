// SPDX-License-Identifier: MIT
/**
 * @file The whole IGN training step as ONE graph (docs/autodiff.md, "How a step is compiled"): four applications of f (x, z,
 * f_z with θ; fz with the frozen copy θ′), the objective, reverse-mode gradients w.r.t. every θ
 * parameter, and Adam. State (θ, Adam moments, BN running statistics) are inputs whose updated
 * values are `X.next` outputs (nn/next.ts); the frozen copy is the set of `frozen.X` inputs, declared
 * {grad:false}, that StepRunner feeds with the same tensors as `X` (aliases). The frozen copy runs
 * BN in train mode like f; its running-stat updates are discarded (never output).
 *
 * Sharing the frozen forward (default): f_θ′(f(z)) and the tightness application f_θ(sg f(z)) read
 * the same tensors and compute the same values node for node, so after autodiff has routed the
 * gradients (L_idem → θ only through f(z), by the input-Jacobian of the frozen application; L_tight
 * → θ only through the outer application's parameters) dedupeGraph reads `frozen.X` as `X` and
 * merges the frozen forward into the outer one, and drops the frozen copy's discarded BN updates.
 * The backward walks stay as they were: only duplicate forward values are computed once.
 *
 * Outputs besides state: loss.total, loss.rec, loss.idem, loss.tight, metric.idem_residual
 * (mean|f(f(z)) − f(z)|), metric.fz_shift (mean|f(z) − z|); with `outputGradients`, `grad.X` too.
 */
import { GraphBuilder } from '../onnx/builder.ts';
import type { Graph, Value } from '../onnx/ir.ts';
import { ops } from '../onnx/ops.ts';
import { gradients } from '../autodiff/backward.ts';
import { ParamSet } from '../nn/params.ts';
import type { ParamDecl } from '../nn/params.ts';
import { bufferUpdates, createContext } from '../nn/context.ts';
import { outputNext } from '../nn/next.ts';
import { adamConfig, emitAdam } from '../optim/adam.ts';
import type { AdamConfig } from '../optim/adam.ts';
import type { LossConfig, ModelConfig, OptimConfig } from '../config.ts';
import { applyF } from './model.ts';
import type { Architecture } from './model.ts';
import { emitIgnLosses } from './losses.ts';
import { dedupeGraph } from '../onnx/dedupe.ts';
import { stackConvBatches } from '../onnx/stack-conv.ts';

const FROZEN_PREFIX = 'frozen.';
export const LOSS_OUTPUTS = ['loss.total', 'loss.rec', 'loss.idem', 'loss.tight', 'metric.idem_residual', 'metric.fz_shift'] as const;
export type LossOutput = (typeof LOSS_OUTPUTS)[number];

export interface StepGraphSpec {
  arch: Architecture;
  model: ModelConfig;
  loss: LossConfig;
  optim: OptimConfig;
  batch: number;
  /** Per-row weights of L_tight over the z batch (null or absent: 1 for every row). */
  tightRowWeights?: readonly number[] | null;
}

export interface StepGraphOptions {
  /** Also output `grad.X` = d loss.total / d X for every parameter (tests, debugging). */
  outputGradients?: boolean;
  /** Also output per-sample `debug.tight_raw` and `debug.clamp_norm` (tests). */
  outputDebug?: boolean;
  /**
   * Compute the frozen copy's forward once with the outer tightness forward (see the file header).
   * Default true; false keeps the four separate applications and the `frozen.X` inputs.
   */
  shareFrozenForward?: boolean;
  /** Run the batched Convs with trained weights on stacked images (stack-conv.ts). Default true. */
  stackConvs?: boolean;
}

export interface StepGraph {
  graph: Graph;
  /** θ parameters and buffers (names = graph input names, no prefix), in declaration order. */
  decls: ParamDecl[];
  /** `frozen.X` → `X`, for StepRunner's aliases (empty when the frozen forward is shared). */
  aliases: Record<string, string>;
  /** Adam moment input names (zeros at start). */
  moments: string[];
  adam: AdamConfig;
  /** Scalar inputs fed every step by adamStepScalars. */
  scalars: string[];
}

function toAdamConfig(optim: OptimConfig): AdamConfig {
  return adamConfig({ beta1: optim.beta1, beta2: optim.beta2, eps: optim.eps });
}

export function imageInput(b: GraphBuilder, name: string, spec: { arch: Architecture; batch: number }): Value {
  return b.input(name, 'float32', [spec.batch, ...spec.arch.imageShape], { grad: false });
}

export function buildStepGraph(spec: StepGraphSpec, options: StepGraphOptions = {}): StepGraph {
  const b = new GraphBuilder('ign_train_step');
  const o = ops(b);
  const x = imageInput(b, 'x', spec);
  const z = imageInput(b, 'z', spec);
  const theta = new ParamSet(b);
  const frozen = new ParamSet(b, { prefix: FROZEN_PREFIX, trainable: false });
  const thetaCtx = createContext(b, theta, true);
  const frozenCtx = createContext(b, frozen, true);
  const applyTheta = (input: Value): Value => applyF(thetaCtx, spec.arch, spec.model, input);
  const losses = emitIgnLosses(
    b,
    o,
    x,
    z,
    {
      fx: applyTheta,
      fz: applyTheta,
      tightOuter: applyTheta,
      idemOuter: (input) => applyF(frozenCtx, spec.arch, spec.model, input),
    },
    spec.loss,
    spec.tightRowWeights ?? null,
  );

  const decls = theta.decls();
  const values = theta.values();
  const params = decls.filter((d) => d.role === 'param').map((d) => ({ name: d.name, value: values.get(d.name)! }));
  const grads = b.scope('backward', () =>
    gradients(
      b,
      losses.total,
      params.map((p) => p.value),
    ),
  );
  const adam = toAdamConfig(spec.optim);
  const emitted = b.scope('optim', () =>
    emitAdam(
      b,
      params.map((p, i) => ({ ...p, grad: grads[i]! })),
      adam,
    ),
  );

  const named: [LossOutput, Value][] = [
    ['loss.total', losses.total],
    ['loss.rec', losses.rec],
    ['loss.idem', losses.idem],
    ['loss.tight', losses.tight],
    ['metric.idem_residual', losses.idemResidual],
    ['metric.fz_shift', losses.fzShift],
  ];
  for (const [name, v] of named) b.output(v, name);
  outputNext(b, [...emitted.state, ...bufferUpdates(thetaCtx)]);
  if (options.outputGradients) params.forEach((p, i) => b.output(grads[i]!, `grad.${p.name}`));
  if (options.outputDebug) {
    b.output(losses.tightRaw, 'debug.tight_raw');
    if (losses.clampNorm) b.output(losses.clampNorm, 'debug.clamp_norm');
  }
  const aliases = Object.fromEntries(frozen.decls().map((d) => [frozen.inputName(d.name), d.name]));
  const common = { decls, moments: emitted.moments.map((m) => m.name), adam, scalars: emitted.scalars };
  const finish = (graph: Graph): Graph => (options.stackConvs === false ? graph : stackConvBatches(graph).graph);
  if (options.shareFrozenForward === false) return { graph: finish(b.build()), aliases, ...common };
  const { graph, removedInputs } = dedupeGraph(b.build(), { sameAs: aliases });
  const leftover = Object.keys(aliases).filter((name) => !removedInputs.includes(name));
  if (leftover.length > 0) throw new Error(`frozen copy still read after sharing its forward: ${leftover.join(', ')}`);
  return { graph: finish(graph), aliases: {}, ...common };
}
