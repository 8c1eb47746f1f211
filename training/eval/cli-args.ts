// SPDX-License-Identifier: MIT
/** Command-line parsing shared by scripts/evaluate.ts and scripts/train-classifier.ts. */
import type { DatasetSpec } from '../data/dataset.ts';

/** "mnist", "fashion-mnist", or "folder:<path>[:<size>[:<channels>]]". */
export function parseDatasetArg(text: string): DatasetSpec {
  if (text === 'mnist' || text === 'fashion-mnist') return { kind: text };
  const match = /^folder:([^:]+)(?::(\d+))?(?::([13]))?$/.exec(text);
  if (!match) throw new Error(`--dataset must be mnist, fashion-mnist or folder:<path>[:<size>[:<channels>]], got "${text}"`);
  const [, path, size, channels] = match;
  return {
    kind: 'folder',
    path: path!,
    ...(size !== undefined && { size: Number(size) }),
    ...(channels !== undefined && { channels: Number(channels) as 1 | 3 }),
  };
}

/** A non-negative integer option, or undefined when absent. */
export function intOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got "${value}"`);
  return n;
}

export function numberOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got "${value}"`);
  return n;
}
