// SPDX-License-Identifier: MIT
/** Random weights of an f whose BatchNorm running statistics are planted far from any batch's, and one application of it. */
import { ForwardRunner } from '../../training/trainer/forward-runner.ts';
import type { ModelConfig } from '../../training/config.ts';
import { buildForwardGraph } from '../../training/ign/forward-graph.ts';
import { architecture } from '../../training/ign/model.ts';
import { initParams } from '../../training/nn/params.ts';
import { Rng } from '../../common/rng.ts';

export function plantedTensors(model: ModelConfig, shape: [number, number, number], seed: number): Record<string, Float32Array> {
  const { decls } = buildForwardGraph({ arch: architecture(model, shape), model, batch: 1, bnMode: 'eval', applications: 1 });
  const tensors = Object.fromEntries(initParams(decls, new Rng(seed)));
  for (const name of Object.keys(tensors)) if (name.includes('.running_')) tensors[name]!.fill(name.endsWith('var') ? 50 : -3);
  return tensors;
}

/** One application of f to a batch of x.length / (C·H·W) images, BatchNorm in `bnMode`. */
export async function applyOnce(
  model: ModelConfig,
  shape: [number, number, number],
  bnMode: 'eval' | 'train',
  x: Float32Array,
  tensors: Record<string, Float32Array>,
): Promise<Float32Array> {
  const batch = x.length / (shape[0] * shape[1] * shape[2]);
  const runner = await ForwardRunner.create({ arch: architecture(model, shape), model, batch, bnMode, applications: 1 });
  try {
    return (await runner.run(x, tensors))[0]!;
  } finally {
    await runner.release();
  }
}
