// SPDX-License-Identifier: MIT
/**
 * All gradient rules, keyed by ONNX op type, merged from per-family tables. A key defined twice is
 * a build error (tfjs's silent override hid five duplicates).
 */
import { AutodiffError } from '../rule.ts';
import type { GradRule } from '../rule.ts';
import { convRules } from './conv.ts';
import { elementwiseRules } from './elementwise.ts';
import { linalgRules } from './linalg.ts';
import { normRules } from './norm.ts';
import { reduceRules } from './reduce.ts';
import { shapeOpRules } from './shape.ts';

function merge(...tables: Readonly<Record<string, GradRule>>[]): Readonly<Record<string, GradRule>> {
  const out: Record<string, GradRule> = {};
  for (const table of tables) {
    for (const [op, rule] of Object.entries(table)) {
      if (op in out) throw new AutodiffError(`gradient rule for ${op} defined twice`);
      out[op] = rule;
    }
  }
  return Object.freeze(out);
}

export const gradRules = merge(elementwiseRules, reduceRules, shapeOpRules, linalgRules, convRules, normRules);
