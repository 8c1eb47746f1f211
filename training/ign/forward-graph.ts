// SPDX-License-Identifier: MIT
/**
 * @file Forward graphs of f without gradients: `f1 … fk` = f^1(x) … f^k(x) for sampling during
 * training and for the export. Parameters are graph inputs here (the export bakes them into
 * initializers afterwards, trainer/export.ts). BN mode: 'eval' normalises with the running
 * statistics; 'train' with each batch's own statistics (buffers untouched), which is what the
 * training step's applications see (the two differ: docs/ign.md, "BatchNorm: train and eval").
 */
import { GraphBuilder } from '../onnx/builder.ts';
import type { Graph } from '../onnx/ir.ts';
import { ParamSet } from '../nn/params.ts';
import type { ParamDecl } from '../nn/params.ts';
import { createContext } from '../nn/context.ts';
import type { ModelConfig } from '../config.ts';
import { applyF } from './model.ts';
import type { Architecture } from './model.ts';

export type BnMode = 'eval' | 'train';

export interface ForwardGraphSpec {
  arch: Architecture;
  model: ModelConfig;
  batch: number;
  bnMode: BnMode;
  /** Number of applications k ≥ 1; outputs f1 … fk. */
  applications: number;
  /** Output name for a single application (export uses 'y'); default 'f1'. */
  outputName?: string;
}

export interface ForwardGraph {
  graph: Graph;
  decls: ParamDecl[];
}

export function buildForwardGraph(spec: ForwardGraphSpec): ForwardGraph {
  if (!Number.isInteger(spec.applications) || spec.applications < 1) throw new Error(`applications must be ≥ 1, got ${spec.applications}`);
  const b = new GraphBuilder(`ign_f_${spec.bnMode}`);
  const x = b.input('x', 'float32', [spec.batch, ...spec.arch.imageShape], { grad: false });
  const params = new ParamSet(b, { trainable: false });
  let y = x;
  for (let k = 1; k <= spec.applications; k++) {
    // A fresh context per application: train-mode BN must not chain buffer updates here.
    const ctx = createContext(b, params, spec.bnMode === 'train');
    y = b.scope(`f${k}`, () => applyF(ctx, spec.arch, spec.model, y));
    b.output(y, spec.applications === 1 && spec.outputName !== undefined ? spec.outputName : `f${k}`);
  }
  return { graph: b.build(), decls: params.decls() };
}
