// SPDX-License-Identifier: MIT
/**
 * @file A light page inside a darker frame: a sheet or a sticky note photographed on a desk, a scan
 * with the scanner's dark lid around it. Against the frame's dark border the whole page reads as
 * "ink", so the normaliser would fit the page instead of the digit written on it. The page shows
 * itself by filling its own box: the box PAGE_INSET of the way in from the content box's edges is
 * mostly "ink" (the paper; what is written on it is dark) up to its four corners, where strokes
 * cover a fraction of theirs or, bold, round its corners off.
 * The normaliser then crops to that inner box (inside the page, past its edges, its shadow and a few
 * degrees of rotation) and normalises the crop, whose border is now the paper. Only for content
 * declared as strokes (InputConventions.content): a filled object on a dark ground, such as a
 * garment, fills its box just as a page does.
 */

export interface Box {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

/** The content box must cover at least this share of the frame to be a page. */
const PAGE_MIN_AREA = 0.2;
/** Pages are not slender (A4 is 0.71); a stroke such as a "1" is. */
const PAGE_MIN_ASPECT = 0.5;
/** The inner box tested, and cropped to, lies this share of the box's side inside the box. */
const PAGE_INSET = 0.08;
/** Share of the inner box at ink ≥ PAGE_INK for the box to be a page (what is written on it is dark). */
const PAGE_INK = 0.2;
const PAGE_FILL = 0.8;
/** Side of the corner squares of the inner box that must be paper, as a share of its side. */
const PAGE_CORNER = 0.1;
/** Smallest side of a page crop, in pixels. */
const PAGE_MIN_SIDE = 8;

/**
 * `ink`: the H×W ink levels in [0, 1] of an image on a dark frame, `box` its content box. Returns the
 * crop inside the page, or null when the content is not a page.
 */
export function pageInFrame(ink: Float32Array, box: Box, height: number, width: number): Box | null {
  if (box.width * box.height < PAGE_MIN_AREA * height * width) return null;
  if (Math.min(box.width, box.height) < PAGE_MIN_ASPECT * Math.max(box.width, box.height)) return null;
  const dx = Math.round(PAGE_INSET * box.width);
  const dy = Math.round(PAGE_INSET * box.height);
  const inner: Box = { left: box.left + dx, top: box.top + dy, width: box.width - 2 * dx, height: box.height - 2 * dy };
  if (inner.width < PAGE_MIN_SIDE || inner.height < PAGE_MIN_SIDE) return null;
  let inked = 0;
  for (let y = inner.top; y < inner.top + inner.height; y++) {
    for (let x = inner.left; x < inner.left + inner.width; x++) if (ink[y * width + x]! >= PAGE_INK) inked++;
  }
  if (inked < PAGE_FILL * inner.width * inner.height) return null;
  // A sheet is square-cornered; strokes (a bold "0" fills its box as much) round off the box's corners.
  const side = Math.max(1, Math.round(PAGE_CORNER * Math.min(inner.width, inner.height)));
  const right = inner.left + inner.width - side;
  const bottom = inner.top + inner.height - side;
  for (const [x0, y0] of [
    [inner.left, inner.top],
    [right, inner.top],
    [inner.left, bottom],
    [right, bottom],
  ] as const) {
    let sum = 0;
    for (let y = y0; y < y0 + side; y++) for (let x = x0; x < x0 + side; x++) sum += ink[y * width + x]!;
    if (sum < PAGE_INK * side * side) return null;
  }
  return inner;
}

/** The C×h×w planes of `box` out of a C×H×W image. */
export function cropPlanes(pixels: Float32Array, channels: number, height: number, width: number, box: Box): Float32Array {
  const out = new Float32Array(channels * box.width * box.height);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < box.height; y++) {
      const from = c * height * width + (box.top + y) * width + box.left;
      out.set(pixels.subarray(from, from + box.width), (c * box.height + y) * box.width);
    }
  }
  return out;
}
