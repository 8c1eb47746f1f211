// SPDX-License-Identifier: MIT
/**
 * @file The IGN network f = Decoder ∘ Encoder (DCGAN discriminator body emitting a latent×1×1 code,
 * then a DCGAN generator; docs/ign.md, "Architectures"), as a layer table that one emitter walks. The same
 * emitter builds the training applications (train-mode BN, through an NnContext) and the eval /
 * export graph (eval-mode BN), so the exported f is the trained f by construction.
 *
 * Bias: bias-free before a normalisation (BN/GN β makes a bias redundant) and on the latent conv,
 * as in the compact DCGAN variant; the last layer has a bias. With norm 'none' the would-be
 * normalised layers get a bias instead.
 */
import type { Value } from '../onnx/ir.ts';
import type { NnContext } from '../nn/context.ts';
import { conv2d, convTranspose2d, norm2d } from '../nn/layers.ts';
import { ZEROS } from '../nn/params.ts';
import type { Init } from '../nn/params.ts';
import type { ModelConfig } from '../config.ts';

export type Activation = 'lrelu' | 'relu' | 'tanh' | 'none';

export interface LayerSpec {
  readonly name: string;
  readonly kind: 'conv' | 'convT';
  readonly out: number;
  readonly kernel: number;
  readonly stride: number;
  readonly padding: number;
  readonly norm: boolean;
  readonly act: Activation;
}

export interface Architecture {
  readonly imageShape: readonly [number, number, number];
  readonly layers: readonly LayerSpec[];
  /** Channels of the residual stem before layers[0] (residualStem); 0: none. */
  readonly stem: number;
}

const layer = (
  name: string,
  kind: 'conv' | 'convT',
  out: number,
  kernel: number,
  stride: number,
  padding: number,
  norm: boolean,
  act: Activation,
): LayerSpec => ({ name, kind, out, kernel, stride, padding, norm, act });

/** 28×28: 28 →(k4s2p1) 14 → 7 →(k7) 1 and back; `normFirst` normalises enc.0 too. */
function mnistLayers(c: number, w: number, latent: number, normFirst: boolean): LayerSpec[] {
  return [
    layer('enc.0', 'conv', w, 4, 2, 1, normFirst, 'lrelu'),
    layer('enc.1', 'conv', 2 * w, 4, 2, 1, true, 'lrelu'),
    layer('enc.2', 'conv', latent, 7, 1, 0, false, 'none'),
    layer('dec.0', 'convT', 2 * w, 7, 1, 0, true, 'relu'),
    layer('dec.1', 'convT', w, 4, 2, 1, true, 'relu'),
    layer('dec.2', 'convT', c, 4, 2, 1, false, 'tanh'),
  ];
}

/** 64×64 DCGAN (docs/ign.md, "Architectures"): 64→32→16→8→4 →(k4) 1 and back. */
function celebaLayers(c: number, w: number, latent: number, normFirst: boolean): LayerSpec[] {
  return [
    layer('enc.0', 'conv', w, 4, 2, 1, normFirst, 'lrelu'),
    layer('enc.1', 'conv', 2 * w, 4, 2, 1, true, 'lrelu'),
    layer('enc.2', 'conv', 4 * w, 4, 2, 1, true, 'lrelu'),
    layer('enc.3', 'conv', 8 * w, 4, 2, 1, true, 'lrelu'),
    layer('enc.4', 'conv', latent, 4, 1, 0, false, 'none'),
    layer('dec.0', 'convT', 8 * w, 4, 1, 0, true, 'relu'),
    layer('dec.1', 'convT', 4 * w, 4, 2, 1, true, 'relu'),
    layer('dec.2', 'convT', 2 * w, 4, 2, 1, true, 'relu'),
    layer('dec.3', 'convT', w, 4, 2, 1, true, 'relu'),
    layer('dec.4', 'convT', c, 4, 2, 1, false, 'tanh'),
  ];
}

/** A few hundred weights, any H×W: tests and smoke runs (not a generative model worth shipping). */
function tinyLayers(c: number, w: number): LayerSpec[] {
  return [layer('enc.0', 'conv', w, 3, 1, 1, true, 'lrelu'), layer('dec.0', 'conv', c, 3, 1, 1, false, 'tanh')];
}

export function architecture(model: ModelConfig, imageShape: readonly [number, number, number]): Architecture {
  const [c, h, w] = imageShape;
  const need = (size: number): void => {
    if (h !== size || w !== size) throw new Error(`architecture ${model.arch} needs ${size}×${size} images, got ${h}×${w}`);
  };
  const stem = model.stem ?? 0;
  switch (model.arch) {
    case 'mnist':
      need(28);
      return { imageShape, layers: mnistLayers(c, model.width, model.latent, model.normFirst === true), stem };
    case 'celeba64':
      need(64);
      return { imageShape, layers: celebaLayers(c, model.width, model.latent, model.normFirst === true), stem };
    case 'tiny':
      if (stem > 0) throw new Error('the tiny architecture has no stem');
      return { imageShape, layers: tinyLayers(c, model.width), stem: 0 };
  }
}

function activate(ctx: NnContext, x: Value, act: Activation): Value {
  switch (act) {
    case 'lrelu':
      return ctx.o.leakyRelu(x, 0.2);
    case 'relu':
      return ctx.o.relu(x);
    case 'tanh':
      return ctx.o.tanh(x);
    case 'none':
      return x;
  }
}

/** Parameter-name prefix of the stem's two convolutions (stem.0, stem.1). */
export const STEM_PREFIX = 'stem.';

/**
 * The stem: x + conv3×3→C(lrelu(conv3×3→width(x))) at full resolution, both with bias. The first
 * strided convolution sees each pixel at one phase of its 4×4 window; the stem can compare every
 * pixel with its eight neighbours first (an isolated dot against a stroke). stem.1's weights start
 * at zero, so f starts as the network without it (a warm start keeps the stored f exactly) and
 * training grows the residual from there.
 */
function residualStem(ctx: NnContext, x: Value, width: number): Value {
  const c = x.shape[1]!;
  // He initialisation for leaky ReLU (slope 0.2) on 3×3×C inputs: features of order one, so each
  // Adam step on stem.1 moves the residual about as much as it moves the weights. With DCGAN's
  // N(0, 0.02) the features are ~20× smaller, and a 2,000-step cycle left stem.1 below 0.03.
  const weightInit: Init = { kind: 'normal', mean: 0, std: Math.sqrt(2 / (1 + 0.2 ** 2) / (9 * c)) };
  const inner = ctx.o.leakyRelu(conv2d(ctx, `${STEM_PREFIX}0`, x, { out: width, kernel: 3, padding: 1, weightInit }), 0.2);
  return ctx.o.add(x, conv2d(ctx, `${STEM_PREFIX}1`, inner, { out: c, kernel: 3, padding: 1, weightInit: ZEROS }));
}

/**
 * Emits one application of f on x in `ctx` (its ParamSet names the weights, its mode decides BN).
 * Calling it again with the same ctx reuses the same parameters (and chains the BN buffers).
 */
export function applyF(ctx: NnContext, arch: Architecture, model: ModelConfig, x: Value): Value {
  let h = arch.stem > 0 ? residualStem(ctx, x, arch.stem) : x;
  const last = arch.layers.length - 1;
  arch.layers.forEach((l, i) => {
    const normed = l.norm && model.norm !== 'none';
    const bias = i === last || (l.norm && model.norm === 'none');
    const opts = { out: l.out, kernel: l.kernel, stride: l.stride, padding: l.padding, bias };
    h = l.kind === 'conv' ? conv2d(ctx, l.name, h, opts) : convTranspose2d(ctx, l.name, h, opts);
    if (normed) h = norm2d(ctx, `${l.name}.norm`, h, model.norm, model.groups, model.bnBlend ?? 0);
    h = activate(ctx, h, l.act);
  });
  return h;
}
