// SPDX-License-Identifier: MIT
/**
 * @file One entry point for training data: a spec (MNIST, Fashion-MNIST or an image folder) and a
 * split give a Dataset that the batcher, the Fourier-statistics step and evaluation read from.
 *
 * Folders have no built-in split: when <path>/train and <path>/test both exist they are used,
 * otherwise both splits read the whole folder.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { shapeSize, type ImageShape } from '../../common/fft.ts';
import { DatasetError } from './errors.ts';
import { loadImageFolder, type SkippedFile } from './image-folder.ts';
import { imageSource, toShared, type ImageSource, type SharedImages } from './shared-images.ts';
import { loadFashionMnist, loadMnist, type DatasetSplit, type LabelledImages } from './mnist.ts';

export type { DatasetSplit } from './mnist.ts';
export type DatasetKind = 'mnist' | 'fashion-mnist' | 'folder';

export interface DatasetSpec {
  readonly kind: DatasetKind;
  /** Folder root (folder only). */
  readonly path?: string;
  /** Side S of the square images; MNIST kinds are 28 and accept only 28. Folder default 64. */
  readonly size?: number;
  /** 1 or 3; MNIST kinds are 1. Folder default 3. */
  readonly channels?: 1 | 3;
  /** Keep only the first `limit` images. */
  readonly limit?: number;
  /** Folder only: on-disk uint8 cache (see image-folder.ts). */
  readonly cacheFile?: string;
}

export interface Dataset extends ImageSource {
  /** Human-readable origin, e.g. "mnist/train" or "folder /data/celeba (3×64×64)". */
  readonly name: string;
  readonly labels: Uint8Array | null;
  /** Files of a folder that could not be decoded (empty for MNIST kinds). */
  readonly skipped: readonly SkippedFile[];
  /** The pixels in shared memory, for worker threads (the noise worker's mixture sources). */
  readonly images: SharedImages;
}

const DEFAULT_FOLDER_SIZE = 64;

export async function loadDataset(spec: DatasetSpec, split: DatasetSplit): Promise<Dataset> {
  if (spec.limit !== undefined && (!Number.isInteger(spec.limit) || spec.limit < 1)) {
    throw new DatasetError(`limit must be a positive integer, got ${spec.limit}`);
  }
  switch (spec.kind) {
    case 'mnist':
      checkMnistSpec(spec);
      return fromLabelled(`mnist/${split}`, loadMnist(split), spec.limit);
    case 'fashion-mnist':
      checkMnistSpec(spec);
      return fromLabelled(`fashion-mnist/${split}`, loadFashionMnist(split), spec.limit);
    case 'folder':
      return loadFolderDataset(spec, split);
  }
}

function checkMnistSpec(spec: DatasetSpec): void {
  if ((spec.size !== undefined && spec.size !== 28) || (spec.channels !== undefined && spec.channels !== 1)) {
    throw new DatasetError(`${spec.kind} images are 1×28×28; size ${spec.size ?? 28}, channels ${spec.channels ?? 1} are not supported`);
  }
}

function fromLabelled(name: string, data: LabelledImages, limit: number | undefined): Dataset {
  const n = Math.min(limit ?? data.n, data.n);
  const images: SharedImages = { data: toShared(data.images.subarray(0, n * shapeSize(data.shape))), n, shape: data.shape };
  return { name, labels: data.labels.subarray(0, n), skipped: [], images, ...imageSource(images) };
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

async function loadFolderDataset(spec: DatasetSpec, split: DatasetSplit): Promise<Dataset> {
  if (spec.path === undefined) throw new DatasetError('a folder dataset needs a path');
  const hasSplits = (await isDirectory(join(spec.path, 'train'))) && (await isDirectory(join(spec.path, 'test')));
  const root = hasSplits ? join(spec.path, split) : spec.path;
  const channels = spec.channels ?? 3;
  const folder = await loadImageFolder({
    path: root,
    size: spec.size ?? DEFAULT_FOLDER_SIZE,
    channels,
    ...(spec.limit !== undefined && { limit: spec.limit }),
    ...(spec.cacheFile !== undefined && { cacheFile: spec.cacheFile }),
  });
  const images: SharedImages = { data: toShared(folder.pixels), n: folder.n, shape: folder.shape };
  return { name: `folder ${root} (${describeShape(folder.shape)})`, labels: null, skipped: folder.skipped, images, ...imageSource(images) };
}

function describeShape(shape: ImageShape): string {
  return `${shape[0]}×${shape[1]}×${shape[2]}`;
}
