// SPDX-License-Identifier: MIT
/**
 * @file Checkpoints: a folder with `checkpoint.json` (config, step, data-iterator state, seeds, a
 * tensor index) and `tensors.bin` (every state tensor as float32 little-endian, back to back, in
 * index order): parameters, Adam moments, BN running statistics. Optional `noise-stats.bin` keeps
 * the Fourier statistics so export and resume need no data. Written to a sibling temp folder, then
 * swapped in by rename, so an interrupted write never leaves a half checkpoint under the real name.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import { join } from 'node:path';
import { NOISE_STATS_FILE } from '../../common/noise.ts';
import { parseNoiseStats, serializeNoiseStats } from '../../common/noise-stats-file.ts';
import type { NoiseStats } from '../../common/noise.ts';
import type { BatcherState } from '../data/batches.ts';
import type { TrainConfig } from '../config.ts';

const CHECKPOINT_JSON = 'checkpoint.json';
const CHECKPOINT_TENSORS = 'tensors.bin';
const FORMAT = 'ign-checkpoint';
const VERSION = 1;

export interface TensorEntry {
  name: string;
  /** Offset in float32 elements. */
  offset: number;
  length: number;
}

export interface CheckpointMeta {
  /** Optimiser steps completed. */
  step: number;
  config: TrainConfig;
  batcher: BatcherState;
  /** Image shape [C, H, W] the model was built for. */
  imageShape: [number, number, number];
  /** Seconds of training wall time so far (summed over resumes). */
  wallTimeSeconds: number;
  /** Noise for step t is drawn from a stream derived from (seed, t), so this is all the RNG state. */
  noiseSeed: number;
  /** Every command line that trained this checkpoint, in order: the first run, then each --resume. */
  commands: string[];
  dataset: string;
}

export interface Checkpoint {
  meta: CheckpointMeta;
  tensors: Record<string, Float32Array>;
  noiseStats: NoiseStats | null;
}

interface CheckpointJson extends Omit<CheckpointMeta, 'commands'> {
  /** Absent in checkpoints written before `commands` existed. */
  commands?: string[];
  format: typeof FORMAT;
  version: number;
  tensors: TensorEntry[];
  noiseStatsFile: string | null;
  /** Checkpoints written before `commands` existed held only the latest command line. */
  command?: string;
}

function packTensors(tensors: Record<string, Float32Array>): { index: TensorEntry[]; bytes: Buffer } {
  const names = Object.keys(tensors).sort();
  const index: TensorEntry[] = [];
  let offset = 0;
  for (const name of names) {
    const length = tensors[name]!.length;
    index.push({ name, offset, length });
    offset += length;
  }
  const all = new Float32Array(offset);
  for (const e of index) all.set(tensors[e.name]!, e.offset);
  return { index, bytes: toLittleEndian(all) };
}

const LITTLE_ENDIAN = endianness() === 'LE';

function toLittleEndian(values: Float32Array): Buffer {
  if (LITTLE_ENDIAN) return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  const out = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => out.writeFloatLE(v, i * 4));
  return out;
}

function fromLittleEndian(bytes: Buffer, offset: number, length: number): Float32Array {
  const out = new Float32Array(length);
  if (LITTLE_ENDIAN) {
    out.set(new Float32Array(bytes.buffer.slice(bytes.byteOffset + offset * 4, bytes.byteOffset + (offset + length) * 4)));
  } else {
    for (let i = 0; i < length; i++) out[i] = bytes.readFloatLE((offset + i) * 4);
  }
  return out;
}

export async function writeCheckpoint(dir: string, ckpt: Checkpoint): Promise<void> {
  const tmp = `${dir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  const { index, bytes } = packTensors(ckpt.tensors);
  const json: CheckpointJson = {
    format: FORMAT,
    version: VERSION,
    ...ckpt.meta,
    tensors: index,
    noiseStatsFile: ckpt.noiseStats ? NOISE_STATS_FILE : null,
  };
  await writeFile(join(tmp, CHECKPOINT_TENSORS), bytes);
  if (ckpt.noiseStats) await writeFile(join(tmp, NOISE_STATS_FILE), serializeNoiseStats(ckpt.noiseStats));
  await writeFile(join(tmp, CHECKPOINT_JSON), `${JSON.stringify(json, null, 1)}\n`);
  const old = `${dir}.old-${process.pid}`;
  await rename(dir, old).catch((err: unknown) => {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  });
  await rename(tmp, dir);
  await rm(old, { recursive: true, force: true });
}

/** A checkpoint folder that cannot be read: missing, not a checkpoint, or truncated. */
export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

export async function readCheckpoint(dir: string): Promise<Checkpoint> {
  let parsed: Partial<CheckpointJson>;
  try {
    parsed = JSON.parse(await readFile(join(dir, CHECKPOINT_JSON), 'utf8')) as Partial<CheckpointJson>;
  } catch (err) {
    throw new CheckpointError(`cannot read checkpoint ${dir}: ${(err as Error).message}`);
  }
  if (parsed.format !== FORMAT || parsed.version !== VERSION)
    throw new CheckpointError(`${dir} is not a version-${VERSION} IGN checkpoint`);
  const json = parsed as CheckpointJson;
  const bytes = await readFile(join(dir, CHECKPOINT_TENSORS));
  const tensors: Record<string, Float32Array> = {};
  for (const e of json.tensors) {
    if ((e.offset + e.length) * 4 > bytes.length)
      throw new CheckpointError(`checkpoint ${dir}: tensor ${e.name} runs past the end of ${CHECKPOINT_TENSORS}`);
    tensors[e.name] = fromLittleEndian(bytes, e.offset, e.length);
  }
  const noiseStats = json.noiseStatsFile ? parseNoiseStats(await readFile(join(dir, json.noiseStatsFile))) : null;
  const meta: CheckpointMeta = {
    step: json.step,
    config: json.config,
    batcher: json.batcher,
    imageShape: json.imageShape,
    wallTimeSeconds: json.wallTimeSeconds,
    noiseSeed: json.noiseSeed,
    commands: json.commands ?? (json.command === undefined ? [] : [json.command]),
    dataset: json.dataset,
  };
  return { meta, tensors, noiseStats };
}
