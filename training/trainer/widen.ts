// SPDX-License-Identifier: MIT
/**
 * @file Function-preserving widening (Net2WiderNet, Chen et al. 2016) of an exported f into a wider
 * architecture of the same layer table, so that capacity (`--width`, `--latent`) can be warm-started
 * from a trained f instead of retrained from scratch.
 *
 * Every widened layer i maps its new output channels onto old ones, g_i(j) = j for the channels it
 * had and a random old channel for each new one. A new channel copies the old channel's incoming
 * weights, bias and BatchNorm parameters and running statistics, so its activation equals the old
 * one's (per-channel batch statistics of two equal channels are equal too, so this holds in
 * train-mode BatchNorm as well as eval mode). The next layer then reads each copy j of old channel k
 * with a share s_j of the old weight, Σ_{g(j)=k} s_j = 1:
 *   Σ_j W′[·, j]·h′_j = Σ_k Σ_{g(j)=k} s_j·W[·, k]·h_k = Σ_k W[·, k]·h_k,
 * the old pre-activation. The shares are random (u_j ∈ [0.5, 1.5), normalised), not 1/n: with equal
 * shares the copies receive equal gradients forever and the extra channels add no capacity.
 *
 * GroupNorm is refused: copying a channel into another group changes that group's statistics.
 */
import { ConfigError } from '../config.ts';
import type { Architecture, LayerSpec } from '../ign/model.ts';
import { Rng } from '../../common/rng.ts';

/** New channel j of a layer reads old channel `source[j]`; as an input it carries `share[j]` of it. */
interface ChannelMap {
  readonly source: Int32Array;
  readonly share: Float32Array;
}

const NORM_PARAMS = ['weight', 'bias', 'running_mean', 'running_var'] as const;

/**
 * Output channels of each layer of `arch`'s table as stored in `weights`, read from the weight
 * sizes (a conv's weight holds out·in·k² values, in = the previous layer's out); null when the
 * weights do not fit the table at any width.
 */
export function storedWidths(weights: Readonly<Record<string, Float32Array>>, arch: Architecture): number[] | null {
  const outs: number[] = [];
  let channelsIn = arch.imageShape[0];
  for (const l of arch.layers) {
    const w = weights[`${l.name}.weight`];
    if (!w) return null;
    const out = w.length / (channelsIn * l.kernel * l.kernel);
    if (!Number.isInteger(out) || out < 1) return null;
    outs.push(out);
    channelsIn = out;
  }
  return outs;
}

function channelMap(oldCount: number, newCount: number, rng: Rng): ChannelMap {
  const source = new Int32Array(newCount);
  for (let j = 0; j < newCount; j++) source[j] = j < oldCount ? j : rng.int(oldCount);
  const draw = Float64Array.from({ length: newCount }, () => 0.5 + rng.uniform());
  const total = new Float64Array(oldCount);
  for (let j = 0; j < newCount; j++) total[source[j]!] = total[source[j]!]! + draw[j]!;
  const share = Float32Array.from(draw, (u, j) => u / total[source[j]!]!);
  return { source, share };
}

const identity = (count: number): ChannelMap => ({
  source: Int32Array.from({ length: count }, (_, j) => j),
  share: new Float32Array(count).fill(1),
});

/** W′ of one layer: conv [out, in, k, k], convT [in, out, k, k]; inputs scaled by their share. */
function widenWeight(w: Float32Array, l: LayerSpec, inputs: ChannelMap, outputs: ChannelMap, oldIn: number, oldOut: number): Float32Array {
  const kk = l.kernel * l.kernel;
  const newIn = inputs.source.length;
  const newOut = outputs.source.length;
  const out = new Float32Array(newIn * newOut * kk);
  for (let i = 0; i < newIn; i++) {
    const si = inputs.source[i]!;
    const share = inputs.share[i]!;
    for (let o = 0; o < newOut; o++) {
      const so = outputs.source[o]!;
      const from = (l.kind === 'conv' ? so * oldIn + si : si * oldOut + so) * kk;
      const to = (l.kind === 'conv' ? o * newIn + i : i * newOut + o) * kk;
      for (let t = 0; t < kk; t++) out[to + t] = w[from + t]! * share;
    }
  }
  return out;
}

const gather = (v: Float32Array, map: ChannelMap): Float32Array => Float32Array.from(map.source, (k) => v[k]!);

/**
 * θ and BN buffers of `to` from those of a narrower f with the same layer table (`weights`, by
 * parameter name), such that the widened f computes the same function. Throws a ConfigError naming
 * the first layer that cannot be widened.
 */
export function widenWeights(
  weights: Readonly<Record<string, Float32Array>>,
  to: Architecture,
  options: { groupNorm: boolean; seed: number },
): Map<string, Float32Array> {
  const oldOuts = storedWidths(weights, to);
  if (oldOuts === null) throw new ConfigError('the weights do not fit this layer table at any width');
  const rng = new Rng(options.seed);
  const out = new Map<string, Float32Array>();
  let inputs = identity(to.imageShape[0]);
  let oldIn = to.imageShape[0];
  to.layers.forEach((l, i) => {
    const oldOut = oldOuts[i]!;
    if (oldOut > l.out) throw new ConfigError(`layer ${l.name} has ${oldOut} channels, the run's ${l.out}: widening cannot narrow`);
    if (i === to.layers.length - 1 && oldOut !== l.out)
      throw new ConfigError(`layer ${l.name} is the output: its ${l.out} channels cannot change`);
    if (options.groupNorm && l.norm && oldOut !== l.out)
      throw new ConfigError(`layer ${l.name} is GroupNorm-normalised: widening it would change its groups' statistics`);
    const outputs = oldOut === l.out ? identity(l.out) : channelMap(oldOut, l.out, rng);
    out.set(`${l.name}.weight`, widenWeight(weights[`${l.name}.weight`]!, l, inputs, outputs, oldIn, oldOut));
    const bias = weights[`${l.name}.bias`];
    if (bias) out.set(`${l.name}.bias`, gather(bias, outputs));
    for (const p of NORM_PARAMS) {
      const v = weights[`${l.name}.norm.${p}`];
      if (v) out.set(`${l.name}.norm.${p}`, gather(v, outputs));
    }
    inputs = outputs;
    oldIn = oldOut;
  });
  return out;
}
