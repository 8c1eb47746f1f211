// SPDX-License-Identifier: MIT
/**
 * @file The evaluation classifier as graphs: a few stride-2 convolutions, a ReLU feature layer
 * (the vector the Fréchet distance is measured on) and a linear head. Two graphs share one forward:
 * a training step (softmax cross-entropy + Adam, parameters as inputs, `X.next` outputs) and an
 * inference graph with the weights baked in as initializers (x → logits, features; dynamic batch).
 */
import type { ImageShape } from '../../common/fft.ts';
import { gradients } from '../autodiff/backward.ts';
import { GraphBuilder } from '../onnx/builder.ts';
import { attr, type Graph, type Value } from '../onnx/ir.ts';
import { ops } from '../onnx/ops.ts';
import { serialize } from '../onnx/serialize.ts';
import { createContext, type NnContext } from '../nn/context.ts';
import { conv2d, linear } from '../nn/layers.ts';
import { outputNext } from '../nn/next.ts';
import { ParamSet, type ParamDecl } from '../nn/params.ts';
import { emitAdam, type AdamConfig, type AdamEmitted } from '../optim/adam.ts';

export interface ClassifierArch {
  readonly shape: ImageShape;
  readonly classes: number;
  /** Output channels of each stride-2 convolution. */
  readonly stages: readonly number[];
  readonly featureDim: number;
}

export const LOGITS_OUTPUT = 'logits';
export const FEATURES_OUTPUT = 'features';

/**
 * Stride-2 stages until the side is ≤ 4 (28 → 14 → 7 → 4; 64 → … → 4), channels 16, 32, 64, 64…,
 * then a 128-dim feature layer: ~160 k parameters for MNIST (≈ 650 kB of float32).
 */
export function classifierArch(shape: ImageShape, classes = 10, featureDim = 128): ClassifierArch {
  const stages: number[] = [];
  let side = Math.max(shape[1], shape[2]);
  while (side > 4 || stages.length === 0) {
    stages.push(Math.min(16 * 2 ** stages.length, 64));
    side = Math.floor((side - 1) / 2) + 1;
  }
  return { shape, classes, stages, featureDim };
}

/** Forward pass: the first stage uses a 5×5 kernel (pad 2), later ones 3×3 (pad 1), all stride 2. */
function classifierForward(ctx: NnContext, x: Value, arch: ClassifierArch): { logits: Value; features: Value } {
  let h = x;
  arch.stages.forEach((out, i) => {
    const kernel = i === 0 ? 5 : 3;
    h = ctx.o.relu(conv2d(ctx, `conv${i}`, h, { out, kernel, stride: 2, padding: (kernel - 1) / 2 }));
  });
  const flat = ctx.o.reshape(h, [-1, h.shape.slice(1).reduce((a, b) => a * b, 1)]);
  const features = ctx.o.relu(linear(ctx, 'feature', flat, { out: arch.featureDim }));
  return { logits: linear(ctx, 'head', features, { out: arch.classes }), features };
}

/**
 * Mean softmax cross-entropy against one-hot targets, composed from primitives:
 * CE = mean_n [ m_n + log Σ_k exp(l_nk − m_n) − Σ_k t_nk l_nk ],  m_n = stopGradient(max_k l_nk).
 * The shift m only guards exp against overflow; the gradient, softmax(l) − t, does not depend on it.
 */
export function softmaxCrossEntropy(b: GraphBuilder, logits: Value, oneHot: Value): Value {
  const o = ops(b);
  const max = b.stopGradient(b.op('ReduceMax', [logits], { axes: attr.is([1]), keepdims: attr.i(1) }));
  const logSumExp = o.add(max, o.log(o.reduceSum(o.exp(o.sub(logits, max)), [1])));
  const picked = o.reduceSum(o.mul(oneHot, logits), [1]);
  return o.reduceMean(o.sub(logSumExp, picked), [0, 1], false);
}

export interface ClassifierTrainGraph {
  readonly graph: Graph;
  readonly decls: ParamDecl[];
  readonly adam: AdamEmitted;
  readonly imageInput: string;
  readonly labelInput: string;
  readonly lossOutput: string;
}

/** One training step for a fixed batch: loss, gradients, Adam, and `X.next` for params and moments. */
export function buildClassifierTrainGraph(arch: ClassifierArch, batch: number, adamCfg: AdamConfig): ClassifierTrainGraph {
  const b = new GraphBuilder('classifier_train');
  const params = new ParamSet(b);
  const ctx = createContext(b, params, true);
  const x = b.input('x', 'float32', [batch, ...arch.shape], { grad: false });
  const oneHot = b.input('one_hot', 'float32', [batch, arch.classes], { grad: false });
  const { logits } = classifierForward(ctx, x, arch);
  const loss = softmaxCrossEntropy(b, logits, oneHot);
  const trainable = [...params.values()];
  const grads = gradients(
    b,
    loss,
    trainable.map(([, v]) => v),
  );
  const adam = emitAdam(
    b,
    trainable.map(([name, value], i) => ({ name, value, grad: grads[i]! })),
    adamCfg,
  );
  b.output(loss, 'loss');
  outputNext(b, adam.state);
  return { graph: b.build(), decls: params.decls(), adam, imageInput: 'x', labelInput: 'one_hot', lossOutput: 'loss' };
}

/** x [N,C,H,W] → logits [N,classes], features [N,featureDim] with `weights` as initializers. */
export function buildClassifierInferenceGraph(arch: ClassifierArch, weights: ReadonlyMap<string, Float32Array>): Uint8Array {
  const b = new GraphBuilder('classifier');
  const params = new ParamSet(b);
  const ctx = createContext(b, params, false);
  const x = b.input('x', 'float32', [1, ...arch.shape], { grad: false });
  const { logits, features } = classifierForward(ctx, x, arch);
  b.output(logits, LOGITS_OUTPUT);
  b.output(features, FEATURES_OUTPUT);
  return serialize(bakeWeights(b.build(), params, weights), { dynamicBatch: true, metadata: { classes: String(arch.classes) } });
}

/** Turns the parameter inputs of `graph` into initializers holding `weights`. */
function bakeWeights(graph: Graph, params: ParamSet, weights: ReadonlyMap<string, Float32Array>): Graph {
  const baked = [...params.values()].map(([name, value]) => {
    const data = weights.get(name);
    if (!data) throw new Error(`no weights for classifier parameter ${name}`);
    return { value, tensor: { dtype: 'float32' as const, shape: value.shape, data } };
  });
  const bakedValues = new Set(baked.map((i) => i.value));
  return {
    ...graph,
    inputs: graph.inputs.filter((v) => !bakedValues.has(v)),
    initializers: [...graph.initializers, ...baked],
  };
}
