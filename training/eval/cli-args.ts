// SPDX-License-Identifier: MIT
/** Options shared by scripts/evaluate.ts, calibrate-bn.ts and train-classifier.ts (datasets: data/dataset-args.ts). */
import { ConfigError } from '../config.ts';

/** A non-negative integer option, or undefined when absent. */
export function intOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new ConfigError(`--${name} must be a non-negative integer, got "${value}"`);
  return n;
}

/** `--threads`: a positive integer, or undefined when absent. */
export function threadsOption(value: string | undefined): number | undefined {
  const threads = intOption('threads', value);
  if (threads === 0) throw new ConfigError('--threads must be at least 1');
  return threads;
}

/** The one positional argument of a CLI that works on a models/<name> folder. */
export function modelFolderArgument(positionals: readonly string[], usage: string): string {
  const dir = positionals[0];
  if (positionals.length !== 1 || dir === undefined) throw new ConfigError(`expected one model folder (see --help)\n${usage}`);
  return dir;
}

/** A share in [0, 1] (`--clean-share`, `--bn-blend`), or undefined when the flag is absent. */
export function fractionOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !(n >= 0 && n <= 1)) throw new ConfigError(`--${name} must be a number in [0, 1], got "${value}"`);
  return n;
}

export function numberOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new ConfigError(`--${name} must be a positive number, got "${value}"`);
  return n;
}
