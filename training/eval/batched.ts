// SPDX-License-Identifier: MIT
/** Runs a dynamic-batch image graph over many images in fixed-size chunks (bounded memory). */
import { shapeSize, type ImageShape } from '../../common/fft.ts';
import type { Session } from '../runtime/ort.ts';
import { concatFloat32 } from '../../common/concat.ts';

const DEFAULT_CHUNK = 200;

/**
 * Feeds images (count×C×H×W) through `session` `chunk` at a time and concatenates each requested
 * output along the batch axis.
 */
export async function runBatched(
  session: Session,
  inputName: string,
  images: Float32Array,
  shape: ImageShape,
  outputs: readonly string[],
  chunk = DEFAULT_CHUNK,
): Promise<Record<string, Float32Array>> {
  const size = shapeSize(shape);
  const count = images.length / size;
  if (!Number.isInteger(count)) throw new RangeError(`${images.length} values are not whole images of [${shape.join(', ')}]`);
  const parts: Record<string, Float32Array[]> = Object.fromEntries(outputs.map((o) => [o, []]));
  for (let start = 0; start < count; start += chunk) {
    const n = Math.min(chunk, count - start);
    const data = images.subarray(start * size, (start + n) * size);
    const result = await session.run({ [inputName]: { dtype: 'float32', shape: [n, ...shape], data } }, outputs);
    for (const name of outputs) {
      const t = result[name];
      if (!t || !(t.data instanceof Float32Array)) throw new Error(`graph returned no float output ${name}`);
      parts[name]!.push(t.data);
    }
  }
  return Object.fromEntries(outputs.map((o) => [o, concatFloat32(parts[o]!)]));
}
