// SPDX-License-Identifier: MIT
/** Number options shared by scripts/evaluate.ts and scripts/train-classifier.ts (datasets: data/dataset-args.ts). */
import { ConfigError } from '../config.ts';

/** A non-negative integer option, or undefined when absent. */
export function intOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new ConfigError(`--${name} must be a non-negative integer, got "${value}"`);
  return n;
}

export function numberOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new ConfigError(`--${name} must be a positive number, got "${value}"`);
  return n;
}
