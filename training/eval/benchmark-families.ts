// SPDX-License-Identifier: MIT
/**
 * @file The corruption families of the projection benchmark and how each batch of clean test images
 * becomes x̃. Pixel families use common/corruptions.ts; user-style ones (common/user-style.ts) are
 * encoded as PNG and decoded + normalised by common/image-input.ts, the path of POST /project.
 * Sizes scale with the image: occlusion sides are fractions of min(H, W), the blur σ is
 * min(H, W)/28 (σ = 1 px on MNIST).
 */
import sharp from 'sharp';
import { blur, gaussianNoise, impulseNoise, occlusion } from '../../common/corruptions.ts';
import { shapeSize, type ImageShape } from '../../common/fft.ts';
import { decodeImageToTensor } from '../../common/image-input.ts';
import { EmptyContentError } from '../../common/input-normalizer.ts';
import type { InputConventions } from '../../common/model-card.ts';
import type { Rng } from '../../common/rng.ts';
import { userStyle, type UserStyle } from '../../common/user-style.ts';
import { toByte } from './panels.ts';

export type FamilyKind = 'clean' | 'noise' | 'impulse' | 'occlusion' | 'blur' | 'user';

export interface FamilySpec {
  readonly id: string;
  readonly label: string;
  readonly kind: FamilyKind;
  /** Scored like the others but with no target: it explains another family's figures. */
  readonly diagnostic?: true;
}

type PixelCorruption = (x: Float32Array, shape: ImageShape, rng: Rng) => Float32Array;

interface PixelFamily extends FamilySpec {
  readonly corrupt: PixelCorruption;
}

interface UserFamily extends FamilySpec {
  readonly style: UserStyle;
}

export type Family = PixelFamily | UserFamily | (FamilySpec & { readonly kind: 'clean' });

export const NOISE_SIGMAS = [0.15, 0.3, 0.5] as const;
export const IMPULSE_RATES = [0.05, 0.2] as const;
/**
 * The two halves of the densest impulse family on their own (diagnostic rows, no target): salt only
 * (+1 pixels), then pepper only (−1 pixels), each at half its rate, drawn independently of it. White
 * dots on the dark background and holes in the strokes are different problems for a projector;
 * these rows show which one f misses.
 */
export const IMPULSE_SPLIT_RATE = IMPULSE_RATES[1] / 2;
export const OCCLUSION_FRACTIONS = [0.3, 0.45] as const;

export function benchmarkFamilies(shape: ImageShape): Family[] {
  const side = Math.min(shape[1], shape[2]);
  const families: Family[] = [{ id: 'clean', label: 'clean x', kind: 'clean' }];
  for (const sigma of NOISE_SIGMAS) {
    families.push({
      id: `noise-${sigma}`,
      label: `Gaussian noise σ = ${sigma}`,
      kind: 'noise',
      corrupt: (x, s, rng) => gaussianNoise(x, s, rng, { sigma }),
    });
  }
  for (const rate of IMPULSE_RATES) {
    families.push({
      id: `impulse-${rate}`,
      label: `salt and pepper ${rate * 100} %`,
      kind: 'impulse',
      corrupt: (x, s, rng) => impulseNoise(x, s, rng, { rate }),
    });
  }
  for (const fraction of OCCLUSION_FRACTIONS) {
    const size = Math.max(1, Math.round(fraction * side));
    families.push({
      id: `occlusion-${size}`,
      label: `occlusion ${size}×${size} px`,
      kind: 'occlusion',
      corrupt: (x, s, rng) => occlusion(x, s, rng, { size }),
    });
  }
  const sigma = side / 28;
  families.push({
    id: 'blur',
    label: `Gaussian blur σ = ${sigma.toFixed(2)} px`,
    kind: 'blur',
    corrupt: (x, s, rng) => blur(x, s, rng, { sigma }),
  });
  for (const style of ['inverted', 'off-centre', 'rescaled', 'light-canvas'] as const) families.push(userFamily(style));
  // Last, so that the families above draw the same corruptions as before these rows existed (each
  // family's rng is a fork of one benchmark stream, taken in this order).
  for (const [part, salt] of [
    ['salt', 1],
    ['pepper', 0],
  ] as const) {
    families.push({
      id: `${part}-${IMPULSE_SPLIT_RATE}`,
      label: `${part} only ${IMPULSE_SPLIT_RATE * 100} % (diagnostic)`,
      kind: 'impulse',
      diagnostic: true,
      corrupt: (x, s, rng) => impulseNoise(x, s, rng, { rate: IMPULSE_SPLIT_RATE, salt }),
    });
  }
  // A photographed page (uneven light, sensor noise), then that page on a desk, added after the rows
  // above for the same reason.
  families.push(userFamily('photo'), userFamily('page-on-desk'));
  return families;
}

function userFamily(style: UserStyle): UserFamily {
  return { id: `user-${style}`, label: `user-style: ${style} (PNG → server decode + normalise)`, kind: 'user', style };
}

/** Families whose FD(f(x̃)) must beat FD(x̃). */
export function isNoiseFamily(kind: FamilyKind): boolean {
  return kind === 'noise' || kind === 'impulse';
}

export interface Corrupted {
  readonly images: Float32Array;
  /** User-style only: the same inputs decoded without normalisation (POST /project?normalize=none). */
  readonly unnormalized?: Float32Array;
  /** User-style only: images the normaliser refused (422 empty_content); they enter as blank canvases. */
  readonly rejected?: number;
}

export interface CorruptOptions {
  readonly conventions: InputConventions | null;
  /** Images decoded concurrently (libuv's pool runs libvips). */
  readonly concurrency?: number;
}

/** x̃ for every image of `clean` (count×C×H×W), deterministic given `rng`. */
export async function corruptBatch(
  family: Family,
  clean: Float32Array,
  shape: ImageShape,
  rng: Rng,
  options: CorruptOptions,
): Promise<Corrupted> {
  if (family.kind === 'clean') return { images: clean };
  const size = shapeSize(shape);
  const count = clean.length / size;
  if ('corrupt' in family) {
    const out = new Float32Array(clean.length);
    for (let i = 0; i < count; i++) out.set(family.corrupt(clean.subarray(i * size, (i + 1) * size), shape, rng), i * size);
    return { images: out };
  }
  const styled = Array.from({ length: count }, (_, i) => userStyle(family.style, clean.subarray(i * size, (i + 1) * size), shape, rng));
  const images = new Float32Array(clean.length);
  const unnormalized = new Float32Array(clean.length);
  let rejected = 0;
  const concurrency = options.concurrency ?? 8;
  for (let start = 0; start < count; start += concurrency) {
    const end = Math.min(count, start + concurrency);
    await Promise.all(
      styled.slice(start, end).map(async (s, j) => {
        const png = await encodePng(s.image, s.shape);
        const at = (start + j) * size;
        unnormalized.set(await decodeImageToTensor(png, { target: shape, range: [-1, 1], maxInputPixels: 1 << 26, conventions: null }), at);
        if (options.conventions === null) {
          images.set(unnormalized.subarray(at, at + size), at);
          return;
        }
        try {
          images.set(
            await decodeImageToTensor(png, { target: shape, range: [-1, 1], maxInputPixels: 1 << 26, conventions: options.conventions }),
            at,
          );
        } catch (err) {
          if (!(err instanceof EmptyContentError)) throw err;
          rejected++;
          images.fill(-1, at, at + size);
        }
      }),
    );
  }
  return { images, unnormalized, rejected };
}

/** One C×H×W image in [-1, 1] as an 8-bit PNG, as a person's file would arrive. */
async function encodePng(image: Float32Array, [channels, height, width]: ImageShape): Promise<Buffer> {
  const plane = height * width;
  const raw = new Uint8Array(image.length);
  for (let p = 0; p < plane; p++) for (let c = 0; c < channels; c++) raw[p * channels + c] = toByte(image[c * plane + p]!);
  return sharp(raw, { raw: { width, height, channels: channels as 1 | 3 } })
    .png()
    .toBuffer();
}
