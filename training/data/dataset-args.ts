// SPDX-License-Identifier: MIT
/**
 * @file The one way every CLI names its data: `--dataset mnist|fashion-mnist|folder` plus, for a
 * folder, `--data-path DIR [--size S] [--channels 1|3]`, and `--limit n` for any kind. Used by
 * train, evaluate and train:classifier, so a dataset is written the same way everywhere.
 */
import { ConfigError } from '../config.ts';
import type { DatasetKind, DatasetSpec } from './dataset.ts';
import type { SkippedFile } from './image-folder.ts';

/** parseArgs options of the dataset flags (all strings, validated by datasetSpecFromFlags). */
export const DATASET_OPTIONS = {
  dataset: { type: 'string' },
  'data-path': { type: 'string' },
  size: { type: 'string' },
  channels: { type: 'string' },
  limit: { type: 'string' },
} as const;

export const DATASET_USAGE = '[--dataset mnist|fashion-mnist|folder] [--data-path DIR] [--size S] [--channels 1|3] [--limit n]';

const KINDS: readonly DatasetKind[] = ['mnist', 'fashion-mnist', 'folder'];

/** The value of a numeric flag, or undefined when absent; anything but a decimal number is a ConfigError. */
export function numberFlag(values: Readonly<Record<string, unknown>>, name: string): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || Number.isNaN(v))
    throw new ConfigError(`--${name} expects a number, got ${JSON.stringify(raw)}`);
  return v;
}

/**
 * The dataset the flags name, or undefined when none of them is given (the caller's default). A
 * `--data-path` alone means a folder; `--size`/`--channels`/`--limit` alone mean MNIST.
 */
export function datasetSpecFromFlags(values: Readonly<Record<string, unknown>>): DatasetSpec | undefined {
  const raw = values.dataset;
  if (typeof raw === 'string' && raw.startsWith('folder:')) {
    throw new ConfigError(`--dataset ${raw}: write --dataset folder --data-path ${raw.slice('folder:'.length).split(':')[0] ?? 'DIR'}`);
  }
  if (raw !== undefined && !KINDS.includes(raw as DatasetKind)) {
    throw new ConfigError(`--dataset must be one of ${KINDS.join(' | ')}, got ${JSON.stringify(raw)}`);
  }
  const anyData = ['data-path', 'size', 'channels', 'limit'].some((k) => values[k] !== undefined);
  const kind = (raw as DatasetKind | undefined) ?? (values['data-path'] !== undefined ? 'folder' : anyData ? 'mnist' : undefined);
  if (kind === undefined) return undefined;
  if (kind === 'folder' && values['data-path'] === undefined) throw new ConfigError('--dataset folder needs --data-path DIR');
  const path = values['data-path'] as string | undefined;
  const [size, channels, limit] = [numberFlag(values, 'size'), numberFlag(values, 'channels'), numberFlag(values, 'limit')];
  return {
    kind,
    ...(path !== undefined && { path }),
    ...(size !== undefined && { size }),
    ...(channels !== undefined && { channels: channels as 1 | 3 }),
    ...(limit !== undefined && { limit }),
  };
}

/** One line about undecodable files of a folder (count and the first few names), or null when none. */
export function skippedFilesLine(skipped: readonly SkippedFile[], shown = 3): string | null {
  if (skipped.length === 0) return null;
  const first = skipped
    .slice(0, shown)
    .map((s) => `${s.file} (${s.reason.split('\n')[0]?.trim() ?? ''})`)
    .join(', ');
  return `skipped ${skipped.length} undecodable file${skipped.length === 1 ? '' : 's'}: ${first}${skipped.length > shown ? ', …' : ''}`;
}
