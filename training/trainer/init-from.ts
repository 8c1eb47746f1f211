// SPDX-License-Identifier: MIT
/**
 * @file Warm start: θ and the BN running statistics of a fresh run taken from an exported
 * models/<name> folder (its model.onnx initializers carry the parameter names of the training
 * graph). Adam moments start at zero. The layer table must match; the widths may grow: a narrower f
 * (smaller `--width` / `--latent`) is widened so that it computes the same function (widen.ts).
 * Every parameter and buffer of the run must then be present with the same number of elements,
 * except a whole normalisation layer the stored f does not have (`--norm-first` on an f without
 * one): it keeps its fresh initialisation (γ = 1, β = 0, running mean 0 and variance 1), which is
 * not function-preserving, and is reported in `freshNorms`; and a stem the stored f does not have
 * (`--stem`): it keeps its fresh initialisation, whose zero second convolution makes it the identity,
 * so f is preserved; reported in `freshStem`.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../config.ts';
import { STEM_PREFIX } from '../ign/model.ts';
import type { Architecture } from '../ign/model.ts';
import { readFloatInitializers } from '../onnx/serialize.ts';
import type { ParamDecl } from '../nn/params.ts';
import { numel } from '../onnx/ir.ts';
import { MODEL_FILE } from './export.ts';
import { storedWidths, widenWeights } from './widen.ts';

export interface InitialWeights {
  readonly weights: Map<string, Float32Array>;
  /** Output channels per layer of the stored f when it was widened into the run's; else null. */
  readonly widenedFrom: number[] | null;
  /** Layers whose normalisation the stored f lacks; their parameters keep the run's initialisation. */
  readonly freshNorms: string[];
  /** The run has a stem the stored f lacks (it starts as the identity). */
  readonly freshStem: boolean;
}

export interface WidenOptions {
  readonly arch: Architecture;
  readonly groupNorm: boolean;
  /** Seed of the new channels' sources and shares. */
  readonly seed: number;
}

export async function loadInitialWeights(dir: string, decls: readonly ParamDecl[], widen: WidenOptions): Promise<InitialWeights> {
  const path = join(dir, MODEL_FILE);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new ConfigError(`--init-from: cannot read ${path}: ${(err as Error).message}`);
  }
  const stored = readFloatInitializers(bytes);
  const widths = storedWidths(stored, widen.arch);
  const runWidths = widen.arch.layers.map((l) => l.out);
  const needsWidening = widths !== null && widths.some((w, i) => w !== runWidths[i]);
  let weights: Readonly<Record<string, Float32Array>> = stored;
  if (needsWidening) {
    // The stem works on image channels, which widening never changes: its weights carry over as stored.
    const stem = Object.entries(stored).filter(([name]) => name.startsWith(STEM_PREFIX));
    try {
      weights = Object.fromEntries([...stem, ...widenWeights(stored, widen.arch, widen)]);
    } catch (err) {
      throw new ConfigError(`--init-from ${dir} does not match this architecture: ${(err as Error).message}`);
    }
  }
  const out = new Map<string, Float32Array>();
  const problems: string[] = [];
  const storedNames = Object.keys(weights);
  const fresh = widen.arch.layers.filter((l) => l.norm && !storedNames.some((name) => name.startsWith(`${l.name}.norm.`)));
  const freshStem = widen.arch.stem > 0 && !storedNames.some((name) => name.startsWith(STEM_PREFIX));
  for (const d of decls) {
    const w = weights[d.name];
    if (!w && fresh.some((l) => d.name.startsWith(`${l.name}.norm.`))) continue;
    if (!w && freshStem && d.name.startsWith(STEM_PREFIX)) continue;
    const want = numel(d.shape);
    if (!w) problems.push(`${d.name} is missing`);
    else if (w.length !== want) problems.push(`${d.name} has ${w.length} values, the run needs ${want}`);
    else out.set(d.name, w);
  }
  if (problems.length > 0)
    throw new ConfigError(
      `--init-from ${dir} does not match this architecture: ${problems.slice(0, 4).join('; ')}${problems.length > 4 ? '; …' : ''}`,
    );
  return { weights: out, widenedFrom: needsWidening ? widths : null, freshNorms: fresh.map((l) => l.name), freshStem };
}
