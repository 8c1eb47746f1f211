// SPDX-License-Identifier: MIT
/**
 * @file Warm start: θ and the BN running statistics of a fresh run taken from an exported
 * models/<name> folder (its model.onnx initializers carry the parameter names of the training
 * graph). Adam moments start at zero. The architecture must match exactly: every parameter and
 * buffer of the run must be present with the same number of elements.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../config.ts';
import { readFloatInitializers } from '../onnx/serialize.ts';
import type { ParamDecl } from '../nn/params.ts';
import { numel } from '../onnx/ir.ts';
import { MODEL_FILE } from './export.ts';

export async function loadInitialWeights(dir: string, decls: readonly ParamDecl[]): Promise<Map<string, Float32Array>> {
  const path = join(dir, MODEL_FILE);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new ConfigError(`--init-from: cannot read ${path}: ${(err as Error).message}`);
  }
  const weights = readFloatInitializers(bytes);
  const out = new Map<string, Float32Array>();
  const problems: string[] = [];
  for (const d of decls) {
    const w = weights[d.name];
    const want = numel(d.shape);
    if (!w) problems.push(`${d.name} is missing`);
    else if (w.length !== want) problems.push(`${d.name} has ${w.length} values, the run needs ${want}`);
    else out.set(d.name, w);
  }
  if (problems.length > 0)
    throw new ConfigError(
      `--init-from ${dir} does not match this architecture: ${problems.slice(0, 4).join('; ')}${problems.length > 4 ? '; …' : ''}`,
    );
  return out;
}
