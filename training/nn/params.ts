// SPDX-License-Identifier: MIT
/**
 * @file Parameters and buffers of a model, declared as graph INPUTS (never initializers in a training
 * graph: ORT would constant-fold them: docs/autodiff.md, "ORT traps"), plus their seeded host-side init.
 *
 * API:
 *   new ParamSet(b, { prefix?: string = '', trainable?: boolean = true })
 *   .param(name, shape, init) → Value    graph input `${prefix}${name}`, differentiable iff trainable
 *   .buffer(name, shape, init) → Value   graph input, never differentiable (BN running stats)
 *   .decls() → ParamDecl[]              declaration order (stable: same model code, same order)
 *   .values() → Map<name, Value>         keys are names WITHOUT the prefix
 *   .inputName(name) → `${prefix}${name}`
 *   initParams(decls, rng) → Map<name, Float32Array>
 *   aliasesOf(copy, source) → Record<copy input name, source input name>   (StepRunner `aliases`)
 */
import { numel, shapeStr } from '../onnx/ir.ts';
import type { Value } from '../onnx/ir.ts';
import type { GraphBuilder } from '../onnx/builder.ts';
import type { Rng } from '../../common/rng.ts';

export type Init = { kind: 'normal'; mean: number; std: number } | { kind: 'zeros' } | { kind: 'ones' };

export interface ParamDecl {
  name: string;
  shape: number[];
  init: Init;
  role: 'param' | 'buffer';
}

/** DCGAN initialisation of conv / convT / linear weights (Radford et al. 2016). */
export const DCGAN_WEIGHT_INIT: Init = { kind: 'normal', mean: 0, std: 0.02 };
export const ZEROS: Init = { kind: 'zeros' };
export const ONES: Init = { kind: 'ones' };

export interface ParamSetOptions {
  /** Prepended to every graph input name (`frozen.` for IGN's frozen copy). */
  prefix?: string;
  /** false: parameters are `{grad:false}` inputs (a frozen copy). Default true. */
  trainable?: boolean;
}

export class ParamSet {
  readonly prefix: string;
  readonly trainable: boolean;
  private readonly declared = new Map<string, { decl: ParamDecl; value: Value }>();

  constructor(
    private readonly b: GraphBuilder,
    options: ParamSetOptions = {},
  ) {
    this.prefix = options.prefix ?? '';
    this.trainable = options.trainable ?? true;
  }

  inputName(name: string): string {
    return `${this.prefix}${name}`;
  }

  param(name: string, shape: readonly number[], init: Init): Value {
    return this.declare({ name, shape: [...shape], init, role: 'param' }, this.trainable);
  }

  buffer(name: string, shape: readonly number[], init: Init): Value {
    return this.declare({ name, shape: [...shape], init, role: 'buffer' }, false);
  }

  decls(): ParamDecl[] {
    return [...this.declared.values()].map((d) => d.decl);
  }

  values(): Map<string, Value> {
    return new Map([...this.declared].map(([name, d]) => [name, d.value]));
  }

  /** Declaring a name again (a model applied twice in one graph) returns the same input. */
  private declare(decl: ParamDecl, grad: boolean): Value {
    const hit = this.declared.get(decl.name);
    if (hit) {
      if (hit.decl.role !== decl.role || shapeStr(hit.decl.shape) !== shapeStr(decl.shape)) {
        throw new Error(
          `${decl.name} redeclared as ${decl.role} ${shapeStr(decl.shape)}, was ${hit.decl.role} ${shapeStr(hit.decl.shape)}`,
        );
      }
      return hit.value;
    }
    const value = this.b.input(this.inputName(decl.name), 'float32', decl.shape, { grad });
    this.declared.set(decl.name, { decl, value });
    return value;
  }
}

/** Host values for every declaration, drawn in declaration order from one seeded stream. */
export function initParams(decls: readonly ParamDecl[], rng: Rng): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const d of decls) {
    const data = new Float32Array(numel(d.shape));
    if (d.init.kind === 'ones') data.fill(1);
    else if (d.init.kind === 'normal') rng.fillNormal(data, d.init.mean, d.init.std);
    out.set(d.name, data);
  }
  return out;
}

/**
 * StepRunner aliases feeding a copy (IGN's frozen f, prefix `frozen.`) from the source's state:
 * every name the copy declared maps to the same name in the source, which must declare it alike.
 */
export function aliasesOf(copy: ParamSet, source: ParamSet): Record<string, string> {
  const declared = new Map(source.decls().map((d) => [d.name, d]));
  const out: Record<string, string> = {};
  for (const d of copy.decls()) {
    const s = declared.get(d.name);
    if (!s || shapeStr(s.shape) !== shapeStr(d.shape)) {
      throw new Error(`${copy.inputName(d.name)} has no matching ${shapeStr(d.shape)} declaration in the source`);
    }
    out[copy.inputName(d.name)] = source.inputName(d.name);
  }
  return out;
}
