// SPDX-License-Identifier: MIT
/**
 * @file A dataset's images in shared memory, as one array of n×C×H×W values: floats in [-1, 1]
 * (MNIST kinds) or bytes 0–255 (image folders, four times smaller). A SharedArrayBuffer reaches a
 * worker thread without a copy, so the noise worker can draw mixture-source images from the same
 * pixels the batcher reads; `imageSource` is the one reader both sides use.
 */
import { shapeSize, type ImageShape } from '../../common/fft.ts';
import type { BatchSource } from './batches.ts';

export interface SharedImages {
  /** n×C×H×W values; Float32Array: [-1, 1]; Uint8Array: 0–255, read as v/127.5 − 1. */
  readonly data: Float32Array | Uint8Array;
  readonly n: number;
  readonly shape: ImageShape;
}

/** An image source that also copies out ranges (for statistics and evaluation). */
export interface ImageSource extends BatchSource {
  /** Images [start, end) as a new float array in [-1, 1]; end is capped at n. */
  slice(start: number, end: number): Float32Array;
}

export function sharedFloat32(length: number): Float32Array {
  return new Float32Array(new SharedArrayBuffer(length * Float32Array.BYTES_PER_ELEMENT));
}

export function sharedUint8(length: number): Uint8Array {
  return new Uint8Array(new SharedArrayBuffer(length));
}

/** `values` itself when it already lives in shared memory, else a shared copy. */
export function toShared<T extends Float32Array | Uint8Array>(values: T): T {
  if (values.buffer instanceof SharedArrayBuffer) return values;
  const copy = (values instanceof Float32Array ? sharedFloat32(values.length) : sharedUint8(values.length)) as T;
  copy.set(values);
  return copy;
}

export function imageSource(images: SharedImages): ImageSource {
  const { data, n, shape } = images;
  const size = shapeSize(shape);
  if (data.length < n * size) throw new RangeError(`${n} images of ${size} values need ${n * size} values, got ${data.length}`);
  // One value-range conversion for both encodings: floats are copied, bytes mapped to [-1, 1].
  const copy =
    data instanceof Float32Array
      ? (from: number, to: number, out: Float32Array, at: number): void => {
          out.set(data.subarray(from, to), at);
        }
      : (from: number, to: number, out: Float32Array, at: number): void => {
          for (let p = from; p < to; p++) out[at + p - from] = data[p]! / 127.5 - 1;
        };
  return {
    n,
    shape,
    gather(indices, out) {
      checkGather(indices, out, n, size);
      for (let k = 0; k < indices.length; k++) copy(indices[k]! * size, (indices[k]! + 1) * size, out, k * size);
    },
    slice(start, end) {
      const [from, to] = checkRange(start, end, n);
      const out = new Float32Array((to - from) * size);
      copy(from * size, to * size, out, 0);
      return out;
    },
  };
}

function checkGather(indices: ArrayLike<number>, out: Float32Array, n: number, size: number): void {
  if (out.length < indices.length * size) throw new RangeError(`output holds ${out.length} values, need ${indices.length * size}`);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k]!;
    if (!Number.isInteger(i) || i < 0 || i >= n) throw new RangeError(`image index ${i} out of range [0, ${n})`);
  }
}

/** [start, min(end, n)), validated. */
function checkRange(start: number, end: number, n: number): [number, number] {
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start) {
    throw new RangeError(`invalid image range [${start}, ${end})`);
  }
  return [Math.min(start, n), Math.min(end, n)];
}
