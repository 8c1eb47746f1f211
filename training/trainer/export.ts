// SPDX-License-Identifier: MIT
/**
 * @file Export of f for serving: the forward graph with eval-mode BN (native BatchNormalization on
 * the running statistics, which ORT folds into the preceding Conv), weights baked in as
 * initializers (1.3–1.5× faster than weights as inputs; docs/autodiff.md, "ORT traps") and a dynamic batch
 * axis; written as models/<name>/model.onnx + model.json (+ noise-stats.bin for Fourier noise).
 *
 * BN train/eval gap (docs/ign.md, "BatchNorm: train and eval"): every training application normalises with its own batch
 * statistics while the running statistics average three distributions (x, z, f(z)), so eval-mode
 * outputs can differ from what training saw. The card records mode 'eval'; compare both modes with
 * ForwardRunner (bnMode 'train') before shipping.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Graph, Initializer } from '../onnx/ir.ts';
import { OPSET } from '../onnx/ir.ts';
import { serialize } from '../onnx/serialize.ts';
import { createSession } from '../runtime/ort.ts';
import { Rng } from '../../common/rng.ts';
import { NOISE_STATS_FILE } from '../../common/noise.ts';
import { serializeNoiseStats } from '../../common/noise-stats-file.ts';
import type { NoiseStats } from '../../common/noise.ts';
import { MNIST_CONVENTIONS, writeModelCard } from '../../common/model-card.ts';
import type { InputConventions, ModelCard } from '../../common/model-card.ts';
import { buildForwardGraph } from '../ign/forward-graph.ts';
import { architecture } from '../ign/model.ts';
import type { TrainConfig } from '../config.ts';

export const MODEL_FILE = 'model.onnx';
export const INPUT_NAME = 'x';
export const OUTPUT_NAME = 'y';

/** Turns the named graph inputs into initializers holding `values` (the rest stay inputs). */
export function bakeInputs(graph: Graph, values: Readonly<Record<string, Float32Array>>): Graph {
  const baked: Initializer[] = [];
  const inputs = graph.inputs.filter((v) => {
    const data = values[v.name];
    if (!data) return true;
    baked.push({ value: v, tensor: { dtype: 'float32', shape: v.shape, data } });
    return false;
  });
  return { ...graph, inputs, initializers: [...graph.initializers, ...baked] };
}

/** ONNX bytes of f (eval-mode BN, weights as initializers, dynamic batch). */
export function exportGraphBytes(
  config: TrainConfig,
  imageShape: [number, number, number],
  tensors: Readonly<Record<string, Float32Array>>,
): Uint8Array {
  const arch = architecture(config.model, imageShape);
  const { graph, decls } = buildForwardGraph({
    arch,
    model: config.model,
    batch: 1,
    bnMode: 'eval',
    applications: 1,
    outputName: OUTPUT_NAME,
  });
  const missing = decls.filter((d) => !tensors[d.name]).map((d) => d.name);
  if (missing.length > 0) throw new Error(`cannot export: no values for ${missing.join(', ')}`);
  const baked = bakeInputs(graph, Object.fromEntries(decls.map((d) => [d.name, tensors[d.name]!])));
  return serialize(baked, { dynamicBatch: true, metadata: { producer: 'ign-toolkit', arch: config.model.arch } });
}

export interface ExportInfo {
  config: TrainConfig;
  imageShape: [number, number, number];
  tensors: Readonly<Record<string, Float32Array>>;
  noiseStats: NoiseStats | null;
  steps: number;
  epochs: number;
  wallTimeSeconds: number;
  /** The command lines that produced the model, in order (training, each resume, the export). */
  commands: readonly string[];
  dataset: string;
  /** Card name (defaults to the folder name, lower-cased). */
  name?: string;
  evaluation?: Record<string, unknown> | null;
}

/** The blended-BatchNorm share α the export runs (0: plain BatchNorm). */
export function blendOf(config: TrainConfig): number {
  return config.model.norm === 'batch' ? (config.model.bnBlend ?? 0) : 0;
}

/** A card `name` must match ^[a-z0-9][a-z0-9._-]{0,63}$. */
function cardName(dir: string): string {
  const name = basename(dir)
    .toLowerCase()
    .replace(/[^a-z0-9._-]/g, '-')
    .replace(/^[^a-z0-9]+/, '');
  return name.slice(0, 64) || 'model';
}

function buildCard(info: ExportInfo, dir: string): ModelCard {
  const {
    config,
    imageShape: [c, h, w],
  } = info;
  if (c !== 1 && c !== 3) throw new Error(`model cards support 1 or 3 channels, got ${c}`);
  const arch = config.model.arch;
  const blend = blendOf(config);
  return {
    schemaVersion: 1,
    name: info.name ?? cardName(dir),
    version: '1',
    description:
      `IGN f = Decoder∘Encoder (${arch}, latent ${config.model.latent}, width ${config.model.width}, ${config.model.norm} norm), ` +
      `${config.preset} preset, ${info.steps} steps on ${info.dataset}. Exported with eval-mode normalisation (running statistics` +
      (blend > 0 ? `, blended with each image's own at ${blend}).` : ').'),
    created: new Date().toISOString(),
    file: MODEL_FILE,
    opset: OPSET,
    input: { name: INPUT_NAME, shape: [-1, c, h, w] },
    output: { name: OUTPUT_NAME, shape: [-1, c, h, w] },
    image: { channels: c, height: h, width: w, valueRange: [-1, 1] },
    noise:
      config.noise === 'gaussian'
        ? { kind: 'gaussian' }
        : { kind: config.noise, statsFile: NOISE_STATS_FILE, ...(config.recipe.hermitian ? { hermitian: true } : {}) },
    normalization: { kind: config.model.norm, mode: 'eval', ...(blend > 0 ? { blend } : {}) },
    seed: config.seed,
    training: {
      preset: config.preset,
      config: JSON.parse(JSON.stringify(config)) as Record<string, unknown>,
      commands: [...info.commands],
      dataset: info.dataset,
      steps: info.steps,
      epochs: info.epochs,
      wallTimeSeconds: info.wallTimeSeconds,
    },
    evaluation: info.evaluation ?? null,
    ...conventionsOf(config, info.imageShape),
  };
}

/**
 * The input conventions of the built-in datasets at their native 1×28×28: MNIST (light strokes on
 * dark, fitted into 20×20, centred by mass) and Fashion-MNIST (light on dark after its negation, the
 * longest edge resized to 28 and the item centred). Folders of arbitrary images declare none.
 */
export function conventionsOf(config: TrainConfig, [c, h, w]: [number, number, number]): { inputConventions?: InputConventions } {
  if (c !== 1 || h !== 28 || w !== 28) return {};
  if (config.data.kind === 'mnist') return { inputConventions: MNIST_CONVENTIONS };
  if (config.data.kind === 'fashion-mnist')
    return { inputConventions: { polarity: 'light-on-dark', contentBox: { width: 28, height: 28 }, centring: 'box' } };
  return {};
}

/**
 * Runs the exported bytes at batch 2 and at batch 1 and checks that the first image's output agrees:
 * a shape baked to the trace batch (e.g. a static Reshape) or batch-dependent normalisation would
 * otherwise only fail in the server.
 */
export async function verifyExport(bytes: Uint8Array, [c, h, w]: [number, number, number]): Promise<void> {
  const session = await createSession(bytes);
  try {
    const size = c * h * w;
    const x = new Rng(0).fillUniform(new Float32Array(2 * size), -1, 1);
    const run = async (n: number): Promise<Float32Array> =>
      (await session.run({ [INPUT_NAME]: { dtype: 'float32', shape: [n, c, h, w], data: x.subarray(0, n * size) } }))[OUTPUT_NAME]!
        .data as Float32Array;
    let pair: Float32Array;
    let single: Float32Array;
    try {
      pair = await run(2);
      single = await run(1);
    } catch (err) {
      throw new Error(`exported model does not run with a dynamic batch: ${(err as Error).message.split('\n')[0] ?? ''}`);
    }
    const worst = single.reduce((m, v, i) => Math.max(m, Math.abs(v - pair[i]!)), 0);
    if (!(worst <= 1e-5)) throw new Error(`exported model output depends on the batch (max |Δ| ${worst})`);
  } finally {
    await session.release();
  }
}

/** Writes dir/model.onnx, dir/model.json and (every noise kind but Gaussian) dir/noise-stats.bin; returns the card. */
export async function exportModel(dir: string, info: ExportInfo): Promise<ModelCard> {
  const { noise } = info.config;
  if (noise !== 'gaussian' && info.noiseStats?.kind !== noise) throw new Error(`${noise} noise needs its statistics to export`);
  const card = buildCard(info, dir);
  const bytes = exportGraphBytes(info.config, info.imageShape, info.tensors);
  await verifyExport(bytes, info.imageShape);
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `${MODEL_FILE}.${process.pid}.tmp`);
  await writeFile(tmp, bytes);
  await rename(tmp, join(dir, MODEL_FILE));
  if (info.noiseStats && noise !== 'gaussian') await writeFile(join(dir, NOISE_STATS_FILE), serializeNoiseStats(info.noiseStats));
  await writeModelCard(dir, card);
  return card;
}
