// SPDX-License-Identifier: MIT
/**
 * @file The noise statistics file saved beside model.onnx and in checkpoints (NOISE_STATS_FILE):
 * ASCII magic "IGNFSTAT", uint32 LE header length, a UTF-8 JSON header padded with spaces to a
 * multiple of 4 bytes, then the header's arrays as float32 little-endian, in order.
 *   fourier:    format "ign-fourier-stats", arrays meanRe, stdRe, meanIm, stdIm (C·H·W each);
 *   covariance: format "ign-covariance-stats", arrays mean (d = C·H·W), cholesky (d(d + 1)/2).
 *   fourier-mixture: format "ign-fourier-mixture-stats", header field `components` K, arrays
 *               weights (K), then meanRe, stdRe, meanIm, stdIm (K·d each, component after component).
 * The Fourier layout is the one every earlier model was saved with, byte for byte.
 */
import { shapeSize, type ImageShape } from './image-shape.ts';
import { assertCovarianceShape, packedLength, type CovarianceStats } from './covariance-noise.ts';
import { MAX_MIXTURE_COMPONENTS, mixtureFromArrays } from './fourier-mixture-noise.ts';
import type { FourierStats, NoiseStats } from './noise.ts';

const MAGIC = 'IGNFSTAT';
const FORMAT_VERSION = 1;

interface Layout {
  readonly format: string;
  readonly arrays: readonly string[];
  /** Length of each array for images of d values (and K components, for a mixture). */
  readonly lengths: (d: number, components: number) => readonly number[];
}

const LAYOUTS = {
  fourier: { format: 'ign-fourier-stats', arrays: ['meanRe', 'stdRe', 'meanIm', 'stdIm'], lengths: (d) => [d, d, d, d] },
  covariance: { format: 'ign-covariance-stats', arrays: ['mean', 'cholesky'], lengths: (d) => [d, packedLength(d)] },
  'fourier-mixture': {
    format: 'ign-fourier-mixture-stats',
    arrays: ['weights', 'meanRe', 'stdRe', 'meanIm', 'stdIm'],
    lengths: (d, k) => [k, k * d, k * d, k * d, k * d],
  },
} as const satisfies Record<NoiseStats['kind'], Layout>;

interface StatsHeader {
  format: string;
  version: number;
  shape: [number, number, number];
  count: number;
  dtype: 'float32-le';
  arrays: readonly string[];
  /** Fourier mixture only: number of components K. */
  components?: number;
}

function arraysOf(stats: NoiseStats): readonly Float32Array[] {
  if (stats.kind === 'fourier') return [stats.meanRe, stats.stdRe, stats.meanIm, stats.stdIm];
  if (stats.kind === 'covariance') return [stats.mean, stats.cholesky];
  return [stats.weights, stats.meanRe, stats.stdRe, stats.meanIm, stats.stdIm];
}

function componentsOf(stats: NoiseStats): number {
  return stats.kind === 'fourier-mixture' ? stats.components.length : 1;
}

export function serializeNoiseStats(stats: NoiseStats): Buffer {
  const layout = LAYOUTS[stats.kind];
  const header: StatsHeader = {
    format: layout.format,
    version: FORMAT_VERSION,
    shape: [stats.shape[0], stats.shape[1], stats.shape[2]],
    count: stats.count,
    dtype: 'float32-le',
    arrays: layout.arrays,
    ...(stats.kind === 'fourier-mixture' ? { components: componentsOf(stats) } : {}),
  };
  let json = JSON.stringify(header);
  const prefix = MAGIC.length + 4;
  while ((prefix + Buffer.byteLength(json)) % 4 !== 0) json += ' ';
  const headerBytes = Buffer.from(json, 'utf8');
  const lengths = layout.lengths(shapeSize(stats.shape), componentsOf(stats));
  const arrays = arraysOf(stats);
  const payload = Buffer.alloc(lengths.reduce((a, b) => a + b, 0) * 4);
  let at = 0;
  arrays.forEach((values, a) => {
    if (values.length !== lengths[a]) throw new RangeError(`${layout.arrays[a]} has ${values.length} values, expected ${lengths[a]}`);
    for (let k = 0; k < values.length; k++) payload.writeFloatLE(values[k]!, (at + k) * 4);
    at += values.length;
  });
  const lengthField = Buffer.alloc(4);
  lengthField.writeUInt32LE(headerBytes.length);
  return Buffer.concat([Buffer.from(MAGIC, 'ascii'), lengthField, headerBytes, payload]);
}

export function parseNoiseStats(buf: Uint8Array): NoiseStats {
  const bytes = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (bytes.length < MAGIC.length + 4 || bytes.toString('ascii', 0, MAGIC.length) !== MAGIC) {
    throw new Error('not a noise statistics file (bad magic)');
  }
  const headerLength = bytes.readUInt32LE(MAGIC.length);
  const headerStart = MAGIC.length + 4;
  if (headerStart + headerLength > bytes.length) throw new Error('noise statistics file is truncated (header)');
  const { kind, shape, count, components } = parseHeader(bytes.toString('utf8', headerStart, headerStart + headerLength));
  const lengths = LAYOUTS[kind].lengths(shapeSize(shape), components);
  const payloadStart = headerStart + headerLength;
  const expected = payloadStart + lengths.reduce((a, b) => a + b, 0) * 4;
  if (bytes.length !== expected) {
    throw new Error(
      `noise statistics file has ${bytes.length} bytes, expected ${expected} for ${kind} statistics of shape [${shape.join(', ')}]`,
    );
  }
  let at = payloadStart;
  const arrays = lengths.map((length) => {
    const values = new Float32Array(length);
    for (let k = 0; k < length; k++) values[k] = bytes.readFloatLE(at + k * 4);
    at += length * 4;
    return values;
  });
  if (kind === 'covariance') {
    const [mean, cholesky] = arrays as [Float32Array, Float32Array];
    return { kind, shape, count, mean, cholesky } satisfies CovarianceStats;
  }
  if (kind === 'fourier-mixture') {
    const [weights, meanRe, stdRe, meanIm, stdIm] = arrays as [Float32Array, Float32Array, Float32Array, Float32Array, Float32Array];
    const total = weights.reduce((a, b) => a + b, 0);
    if (!weights.every((w) => w >= 0) || !(Math.abs(total - 1) < 1e-4))
      throw new Error('noise statistics mixture weights must be ≥ 0 and sum to 1');
    return mixtureFromArrays(shape, count, weights, { meanRe, stdRe, meanIm, stdIm });
  }
  const [meanRe, stdRe, meanIm, stdIm] = arrays as [Float32Array, Float32Array, Float32Array, Float32Array];
  return { kind, shape, count, meanRe, stdRe, meanIm, stdIm } satisfies FourierStats;
}

function parseHeader(text: string): { kind: NoiseStats['kind']; shape: ImageShape; count: number; components: number } {
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch {
    throw new Error('noise statistics header is not valid JSON');
  }
  const h = header as Partial<StatsHeader> | null;
  const kind = (Object.keys(LAYOUTS) as NoiseStats['kind'][]).find((k) => LAYOUTS[k].format === h?.format);
  if (kind === undefined || h?.version !== FORMAT_VERSION || h.dtype !== 'float32-le') {
    throw new Error(`unsupported noise statistics header: ${text.trim().slice(0, 200)}`);
  }
  const shape: unknown = h.shape;
  if (!isShape(shape)) throw new Error('noise statistics header has an invalid shape');
  if (kind === 'covariance') assertCovarianceShape(shape);
  if (!Number.isInteger(h.count) || (h.count ?? 0) < 1) throw new Error('noise statistics header has an invalid count');
  if (JSON.stringify(h.arrays) !== JSON.stringify(LAYOUTS[kind].arrays)) throw new Error('noise statistics header lists unexpected arrays');
  const components = kind === 'fourier-mixture' ? h.components : 1;
  if (!Number.isInteger(components) || components! < 1 || components! > MAX_MIXTURE_COMPONENTS) {
    throw new Error(`noise statistics header has an invalid component count (1 to ${MAX_MIXTURE_COMPONENTS})`);
  }
  return { kind, shape: [shape[0], shape[1], shape[2]], count: h.count!, components: components! };
}

function isShape(value: unknown): value is [number, number, number] {
  return (
    Array.isArray(value) && value.length === 3 && (value as unknown[]).every((d) => typeof d === 'number' && Number.isInteger(d) && d > 0)
  );
}
