// SPDX-License-Identifier: MIT
/**
 * @file Digits as people send them, made from clean training images (C×H×W in [-1, 1], light
 * strokes on a dark background): the projection benchmark's user-style family, which then goes
 * through PNG and the server's decode-and-normalise path. Each returns a new image and its shape
 * (the light canvas is larger than the input) and is deterministic given the rng.
 *
 * - inverted:     dark strokes on a white page, −x.
 * - off-centre:   the content box moved to a uniform position on the same canvas (fully inside).
 * - rescaled:     the content box resized by s ~ U[minScale, maxScale] (area/linear resampling),
 *                 box-centred on the same canvas; scales that would not fit are reduced to fit.
 * - light-canvas: dark ink (level U[0, 0.25]) on grey-white paper (U[0.85, 1]) on a square canvas of
 *                 side U{minSide … maxSide} px, the content box scaled to a height of U[0.3, 0.8] of
 *                 the side at a uniform position: inversion, off-centre and rescaling together.
 * - photo:        a light-canvas page as a phone photographs it: lit unevenly (brightness falling
 *                 linearly by a share U[0.15, 0.45] across the page in a uniform direction, on paper
 *                 and ink alike) and with sensor noise (Gaussian, σ U[0.01, 0.04] of full scale).
 * - page-on-desk: that light-canvas page with a paper margin of PAPER_MARGIN of its side around it,
 *                 photographed, lying square on a dark desk (level U[0.05, 0.3], noise σ 0.02) that
 *                 shows around it: the page covers U[0.55, 0.85] of the frame's side, at a uniform
 *                 position.
 *
 * "Content box" here is the bounding box of pixels above −1 + 2·CONTENT_EPSILON.
 */
import { shapeSize, type ImageShape } from './fft.ts';
import { resizePlane } from './resample.ts';
import type { Rng } from './rng.ts';
import { cropPlanes } from './page-in-frame.ts';

export const USER_STYLES = ['inverted', 'off-centre', 'rescaled', 'light-canvas', 'photo', 'page-on-desk'] as const;
export type UserStyle = (typeof USER_STYLES)[number];

export interface UserStyleParams {
  readonly minScale?: number;
  readonly maxScale?: number;
  readonly minSide?: number;
  readonly maxSide?: number;
}

export interface StyledImage {
  readonly image: Float32Array;
  readonly shape: ImageShape;
}

const CONTENT_EPSILON = 0.02;
/** Paper added around the written area of a page on a desk, as a share of its side on each side. */
const PAPER_MARGIN = 0.12;
/** Standard deviation of the desk's sensor noise, in [0, 1] grey levels. */
const DESK_NOISE = 0.02;
const DEFAULTS = { minScale: 0.5, maxScale: 1.3, minSide: 56, maxSide: 160 } as const;

export function userStyle(style: UserStyle, x: Float32Array, shape: ImageShape, rng: Rng, params: UserStyleParams = {}): StyledImage {
  if (x.length !== shapeSize(shape)) throw new RangeError(`${x.length} values are not one [${shape.join(', ')}] image`);
  const p = { ...DEFAULTS, ...params };
  switch (style) {
    case 'inverted':
      return { image: x.map((v) => -v), shape };
    case 'off-centre': {
      const crop = cropContent(x, shape);
      return { image: place(crop, shape, rng.int(shape[2] - crop.width + 1), rng.int(shape[1] - crop.height + 1), -1), shape };
    }
    case 'rescaled': {
      const crop = cropContent(x, shape);
      const s = Math.min(p.minScale + (p.maxScale - p.minScale) * rng.uniform(), shape[2] / crop.width, shape[1] / crop.height);
      const scaled = scale(crop, s);
      return {
        image: place(scaled, shape, Math.floor((shape[2] - scaled.width) / 2), Math.floor((shape[1] - scaled.height) / 2), -1),
        shape,
      };
    }
    case 'light-canvas':
      return lightCanvas(x, shape, rng, p);
    case 'photo':
      return photo(lightCanvas(x, shape, rng, p), rng);
    case 'page-on-desk':
      return onDesk(photo(withPaperMargin(lightCanvas(x, shape, rng, p)), rng), rng);
  }
}

interface Crop {
  readonly channels: number;
  readonly width: number;
  readonly height: number;
  /** C×height×width in [-1, 1]. */
  readonly data: Float32Array;
}

function cropContent(x: Float32Array, [channels, height, width]: ImageShape): Crop {
  const plane = height * width;
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let xx = 0; xx < width; xx++) {
      let on = false;
      for (let c = 0; c < channels; c++) on ||= x[c * plane + y * width + xx]! > -1 + 2 * CONTENT_EPSILON;
      if (!on) continue;
      x0 = Math.min(x0, xx);
      x1 = Math.max(x1, xx);
      y0 = Math.min(y0, y);
      y1 = Math.max(y1, y);
    }
  }
  if (x1 < 0) return { channels, width, height, data: Float32Array.from(x) };
  const box = { left: x0, top: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 };
  return { channels, width: box.width, height: box.height, data: cropPlanes(x, channels, height, width, box) };
}

function scale(crop: Crop, s: number): Crop {
  const width = Math.max(1, Math.round(crop.width * s));
  const height = Math.max(1, Math.round(crop.height * s));
  const data = new Float32Array(crop.channels * width * height);
  const plane = crop.width * crop.height;
  for (let c = 0; c < crop.channels; c++) {
    data.set(resizePlane(crop.data.subarray(c * plane, (c + 1) * plane), crop.height, crop.width, height, width), c * width * height);
  }
  return { channels: crop.channels, width, height, data };
}

/** The crop on a canvas of `shape` filled with `background`, its top-left corner at (left, top). */
function place(crop: Crop, [channels, height, width]: ImageShape, left: number, top: number, background: number): Float32Array {
  const out = new Float32Array(channels * height * width).fill(background);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < crop.height && top + y < height; y++) {
      for (let x = 0; x < crop.width && left + x < width; x++) {
        out[(c * height + top + y) * width + left + x] = crop.data[(c * crop.height + y) * crop.width + x]!;
      }
    }
  }
  return out;
}

function lightCanvas(x: Float32Array, shape: ImageShape, rng: Rng, p: Required<UserStyleParams>): StyledImage {
  const channels = shape[0];
  const side = p.minSide + rng.int(p.maxSide - p.minSide + 1);
  const crop = cropContent(x, shape);
  const boxHeight = side * (0.3 + 0.5 * rng.uniform());
  const scaled = scale(crop, Math.min(boxHeight / crop.height, side / crop.width));
  const left = rng.int(side - scaled.width + 1);
  const top = rng.int(side - scaled.height + 1);
  const paper = 0.85 + 0.15 * rng.uniform();
  const ink = 0.25 * rng.uniform();
  const canvasShape: ImageShape = [channels, side, side];
  const strokes = place(scaled, canvasShape, left, top, -1);
  // stroke s ∈ [-1, 1] → amount a = (s + 1)/2 ∈ [0, 1] → grey paper − a·(paper − ink) ∈ [0, 1] → [-1, 1].
  const image = strokes.map((s) => 2 * (paper - ((s + 1) / 2) * (paper - ink)) - 1);
  return { image, shape: canvasShape };
}

/** Uneven light and sensor noise over a page in [-1, 1]: brightness b·(1 − g·t) + σ·n, clipped, t ∈ [0, 1] along a random direction. */
function photo({ image, shape }: StyledImage, rng: Rng): StyledImage {
  const [channels, height, width] = shape;
  const angle = 2 * Math.PI * rng.uniform();
  const falloff = 0.15 + 0.3 * rng.uniform();
  const sigma = 0.01 + 0.03 * rng.uniform();
  const [dx, dy] = [Math.cos(angle), Math.sin(angle)];
  // The projection of the pixel position on the light's direction, scaled to [0, 1] over the page.
  const reach = (Math.abs(dx) * (width - 1) + Math.abs(dy) * (height - 1)) / 2;
  const out = new Float32Array(image.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const t = reach > 0 ? ((x - (width - 1) / 2) * dx + (y - (height - 1) / 2) * dy) / (2 * reach) + 0.5 : 0;
      const light = 1 - falloff * t;
      for (let c = 0; c < channels; c++) {
        const i = (c * height + y) * width + x;
        const brightness = ((image[i]! + 1) / 2) * light + sigma * rng.normal();
        out[i] = 2 * Math.min(1, Math.max(0, brightness)) - 1;
      }
    }
  }
  return { image: out, shape };
}

/** The page with PAPER_MARGIN of its side of paper (its lightest level) added on each side. */
function withPaperMargin({ image, shape }: StyledImage): StyledImage {
  const [channels, height, width] = shape;
  const margin = Math.round(PAPER_MARGIN * Math.max(height, width));
  const paper = Math.max(...image);
  const crop = { channels, width, height, data: image };
  const padded: ImageShape = [channels, height + 2 * margin, width + 2 * margin];
  return { image: place(crop, padded, margin, margin, paper), shape: padded };
}

/** The page lying square on a dark desk that fills the rest of the frame. */
function onDesk(page: StyledImage, rng: Rng): StyledImage {
  const [channels, height, width] = page.shape;
  const share = 0.55 + 0.3 * rng.uniform();
  const side = Math.round(Math.max(height, width) / share);
  const desk = 0.05 + 0.25 * rng.uniform();
  const frame: ImageShape = [channels, side, side];
  const left = rng.int(side - width + 1);
  const top = rng.int(side - height + 1);
  const image = place({ channels, width, height, data: page.image }, frame, left, top, 2 * desk - 1);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      if (x >= left && x < left + width && y >= top && y < top + height) continue;
      for (let c = 0; c < channels; c++) {
        const i = (c * side + y) * side + x;
        image[i] = Math.min(1, Math.max(-1, image[i]! + 2 * DESK_NOISE * rng.normal()));
      }
    }
  }
  return { image, shape: frame };
}
