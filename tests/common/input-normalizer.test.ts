// SPDX-License-Identifier: MIT
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ImageShape } from '../../common/fft.ts';
import { EmptyContentError, normalizeInput } from '../../common/input-normalizer.ts';
import { MNIST_CONVENTIONS, type InputConventions } from '../../common/model-card.ts';
import { resizePlane } from '../../common/resample.ts';
import { Rng } from '../../common/rng.ts';
import { borderRing, estimateBackground, medianOf } from '../../common/page-background.ts';

const target: ImageShape = [1, 28, 28];
const options = { conventions: MNIST_CONVENTIONS, target };
/** MNIST's conventions with the content declared as filled objects: no page is ever looked for. */
const objects: InputConventions = { ...MNIST_CONVENTIONS, content: 'objects' };

/** An H×W page in [0, 1] of `paper`, with an "L" of `ink` (a 4-px stem and foot) whose box is w×h at (left, top). */
function page(
  height: number,
  width: number,
  box: { left: number; top: number; w: number; h: number },
  paper: number,
  ink: number,
): Float32Array {
  const out = new Float32Array(height * width).fill(paper);
  const stroke = Math.max(1, Math.round(box.w / 4));
  for (let y = box.top; y < box.top + box.h; y++) {
    for (let x = box.left; x < box.left + box.w; x++) {
      const inStem = x < box.left + stroke;
      const inFoot = y >= box.top + box.h - stroke;
      if (inStem || inFoot) out[y * width + x] = ink;
    }
  }
  return out;
}

/** A page of `paper` with Gaussian noise σ (seeded), clipped to [0, 1]. */
function noisePage(height: number, width: number, paper: number, sigma: number): Float32Array {
  const rng = new Rng(5);
  return Float32Array.from({ length: height * width }, () => Math.min(1, Math.max(0, paper + sigma * rng.normal())));
}

interface Measured {
  box: { left: number; top: number; right: number; bottom: number };
  mass: { x: number; y: number };
  corner: number;
}

/** Content box (values above the midpoint of the range) and centre of mass of (v + 1)/2. */
function measure(image: Float32Array, width = 28, height = 28): Measured {
  const box = { left: width, top: height, right: -1, bottom: -1 };
  let total = 0;
  let sx = 0;
  let sy = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const m = (image[y * width + x]! + 1) / 2;
      total += m;
      sx += m * x;
      sy += m * y;
      if (m > 0.5) {
        box.left = Math.min(box.left, x);
        box.right = Math.max(box.right, x);
        box.top = Math.min(box.top, y);
        box.bottom = Math.max(box.bottom, y);
      }
    }
  }
  return { box, mass: { x: sx / total, y: sy / total }, corner: image[0]! };
}

function assertMnistLike(out: Float32Array, label: string): Measured {
  const m = measure(out);
  assert.equal(out.length, 28 * 28, label);
  assert.ok(
    out.every((v) => v >= -1 - 1e-6 && v <= 1 + 1e-6),
    `${label}: values stay in [-1, 1]`,
  );
  assert.equal(m.corner, -1, `${label}: dark background`);
  const boxH = m.box.bottom - m.box.top + 1;
  const boxW = m.box.right - m.box.left + 1;
  assert.ok(Math.max(boxH, boxW) >= 19 && Math.max(boxH, boxW) <= 20, `${label}: content fitted into 20 px (${boxW}×${boxH})`);
  assert.ok(Math.abs(m.mass.x - 14) <= 0.5 && Math.abs(m.mass.y - 14) <= 0.5, `${label}: mass centred (${m.mass.x}, ${m.mass.y})`);
  return m;
}

void test('an MNIST-form image (light L on dark, 20 px box, mass-centred) comes back unchanged', () => {
  const first = normalizeInput(page(28, 28, { left: 6, top: 4, w: 12, h: 20 }, 0, 1), [1, 28, 28], options);
  const again = normalizeInput(
    first.map((v) => (v + 1) / 2),
    [1, 28, 28],
    options,
  );
  assertMnistLike(first, 'first');
  assert.deepEqual(again, first, 'normalising is idempotent');
});

void test('inverted, off-centre, rescaled and large light-canvas inputs all land in the MNIST form', () => {
  const reference = normalizeInput(page(28, 28, { left: 6, top: 4, w: 12, h: 20 }, 0, 1), [1, 28, 28], options);
  const cases: [string, Float32Array, ImageShape][] = [
    ['inverted', page(28, 28, { left: 6, top: 4, w: 12, h: 20 }, 1, 0), [1, 28, 28]],
    ['off-centre', page(28, 28, { left: 0, top: 0, w: 12, h: 20 }, 0, 1), [1, 28, 28]],
    ['rescaled small', page(28, 28, { left: 11, top: 9, w: 6, h: 10 }, 0, 1), [1, 28, 28]],
    ['larger light canvas, grey paper, dark-grey ink', page(150, 120, { left: 70, top: 20, w: 36, h: 60 }, 0.9, 0.15), [1, 150, 120]],
  ];
  for (const [label, pixels, shape] of cases) {
    const out = normalizeInput(pixels, shape, options);
    const m = assertMnistLike(out, label);
    // Same glyph at the same size and place: the boxes agree within a pixel of resampling.
    const r = measure(reference);
    for (const side of ['left', 'top', 'right', 'bottom'] as const)
      assert.ok(Math.abs(m.box[side] - r.box[side]) <= 1, `${label}: box ${side} ${m.box[side]} vs ${r.box[side]}`);
  }
});

void test('a photographed page (light falling across it, sensor noise) lands in the MNIST form like the evenly lit one', () => {
  const reference = measure(normalizeInput(page(28, 28, { left: 6, top: 4, w: 12, h: 20 }, 0, 1), [1, 28, 28], options));
  const shape: ImageShape = [1, 150, 120];
  const even = page(150, 120, { left: 70, top: 20, w: 36, h: 60 }, 0.9, 0.15);
  for (const [falloff, sigma] of [
    [0.45, 0],
    [0.3, 0.03],
    [0.45, 0.04],
  ] as const) {
    const rng = new Rng(3);
    // Brightness falls by `falloff` from the top-right corner (behind the digit) to the bottom-left.
    const photo = even.map((v, p) => {
      const t = (Math.floor(p / 120) / 149 + (1 - (p % 120) / 119)) / 2;
      return Math.min(1, Math.max(0, v * (1 - falloff * t) + sigma * rng.normal()));
    });
    const label = `falloff ${falloff}, σ ${sigma}`;
    const m = assertMnistLike(normalizeInput(photo, shape, options), label);
    for (const side of ['left', 'top', 'right', 'bottom'] as const)
      assert.ok(Math.abs(m.box[side] - reference.box[side]) <= 1, `${label}: box ${side} ${m.box[side]} vs ${reference.box[side]}`);
  }
});

void test('content the background fit mistakes for page (a grey band over most of a noisy frame) is kept, not refused', () => {
  // A band of 0.7 over 20 of 28 columns on paper of 0.9, sensor noise σ = 0.02: the fitted surface
  // follows the band, leaving no contrast; the one-level page the normaliser always had finds it.
  const rng = new Rng(2);
  const pixels = Float32Array.from({ length: 28 * 28 }, (_, p) => (p % 28 >= 4 && p % 28 < 24 ? 0.7 : 0.9) + 0.02 * rng.normal());
  const background = estimateBackground(pixels, 28, 28, true, medianOf(borderRing(pixels, 28, 28)));
  assert.ok(background.level instanceof Float32Array, 'the fit takes the band for lighting');
  const out = normalizeInput(pixels, [1, 28, 28], options);
  const { box } = measure(out);
  assert.ok(box.right - box.left + 1 >= 12, `the band is the content (${box.right - box.left + 1} px wide)`);
});

/** A sheet of `paper` with a dark "L" (the page() glyph, box w×h at 26 % / 16 % of it), lying square on a `desk` frame of side `frame`. */
function sheetOnDesk(
  frame: number,
  sheet: { left: number; top: number; side: number },
  paper: number,
  desk: number,
  withGlyph = true,
): Float32Array {
  const glyph = page(
    sheet.side,
    sheet.side,
    {
      left: Math.round(0.3 * sheet.side),
      top: Math.round(0.2 * sheet.side),
      w: Math.round(0.3 * sheet.side),
      h: Math.round(0.5 * sheet.side),
    },
    paper,
    0.1,
  );
  const out = new Float32Array(frame * frame).fill(desk);
  for (let y = 0; y < sheet.side; y++) {
    for (let x = 0; x < sheet.side; x++) out[(sheet.top + y) * frame + sheet.left + x] = withGlyph ? glyph[y * sheet.side + x]! : paper;
  }
  return out;
}

void test('strokes: a sheet lying on a dark desk is found, and the digit on it normalised, not the sheet', () => {
  const reference = measure(normalizeInput(page(28, 28, { left: 6, top: 4, w: 12, h: 20 }, 0, 1), [1, 28, 28], options));
  for (const [left, top, desk] of [
    [30, 50, 0.15],
    [0, 0, 0.3],
    [70, 20, 0.05],
  ] as const) {
    const label = `sheet at (${left}, ${top}) on desk ${desk}`;
    const m = assertMnistLike(normalizeInput(sheetOnDesk(180, { left, top, side: 110 }, 0.9, desk), [1, 180, 180], options), label);
    for (const side of ['left', 'top', 'right', 'bottom'] as const)
      assert.ok(Math.abs(m.box[side] - reference.box[side]) <= 1, `${label}: box ${side} ${m.box[side]} vs ${reference.box[side]}`);
  }
  assert.throws(
    () => normalizeInput(sheetOnDesk(180, { left: 30, top: 50, side: 110 }, 0.9, 0.15, false), [1, 180, 180], options),
    (err: unknown) => err instanceof EmptyContentError && /page in the image is blank/.test(err.message),
    'a blank sheet is empty content',
  );
  // Content declared as objects (a garment fills its box as a sheet does) is never searched for a page.
  const asObject = measure(
    normalizeInput(sheetOnDesk(180, { left: 30, top: 50, side: 110 }, 0.9, 0.15), [1, 180, 180], { ...options, conventions: objects }),
  );
  assert.ok(
    asObject.box.bottom - asObject.box.top + 1 >= 19 && asObject.box.right - asObject.box.left + 1 >= 19,
    'the sheet itself is the content',
  );
});

void test('strokes that fill their box are not taken for a page: a bold ring, a thick bar', () => {
  const ring = new Float32Array(28 * 28);
  const bar = new Float32Array(28 * 28);
  for (let y = 0; y < 28; y++) {
    for (let x = 0; x < 28; x++) {
      const r = Math.hypot(x - 13.5, y - 13.5);
      ring[y * 28 + x] = r < 12 && r > 4 ? 1 : 0;
      bar[y * 28 + x] = x >= 10 && x < 18 && y >= 2 && y < 26 ? 1 : 0;
    }
  }
  // Normalised exactly as when no page is ever looked for (content declared as objects).
  for (const [label, pixels] of [
    ['bold ring', ring],
    ['thick bar', bar],
  ] as const) {
    assert.deepEqual(
      normalizeInput(pixels, [1, 28, 28], options),
      normalizeInput(pixels, [1, 28, 28], { ...options, conventions: objects }),
      label,
    );
  }
});

void test('wide content is fitted by its width, aspect kept', () => {
  const out = normalizeInput(page(40, 100, { left: 10, top: 15, w: 80, h: 10 }, 1, 0), [1, 40, 100], options);
  const { box } = measure(out);
  assert.equal(box.right - box.left + 1, 20);
  assert.ok(box.bottom - box.top + 1 <= 3, `height ${box.bottom - box.top + 1}`);
});

void test('box centring and dark-on-light conventions are honoured', () => {
  const conventions: InputConventions = { polarity: 'dark-on-light', contentBox: { width: 10, height: 10 }, centring: 'box' };
  const out = normalizeInput(page(50, 50, { left: 2, top: 30, w: 10, h: 10 }, 0, 1), [1, 50, 50], { conventions, target: [1, 20, 20] });
  assert.equal(out[0], 1, 'light background');
  const dark = measure(
    out.map((v) => -v),
    20,
    20,
  ).box;
  assert.deepEqual(dark, { left: 5, top: 5, right: 14, bottom: 14 });
});

void test('blank, uniform and too-faint images throw EmptyContentError (code empty_content)', () => {
  const cases: [string, Float32Array][] = [
    ['white page', new Float32Array(60 * 60).fill(1)],
    ['black page', new Float32Array(60 * 60)],
    ['uniform grey', new Float32Array(60 * 60).fill(0.4)],
    ['faint mark', page(60, 60, { left: 20, top: 20, w: 10, h: 10 }, 0.95, 0.9)],
    ['sensor noise alone on grey paper', noisePage(60, 60, 0.8, 0.04)],
  ];
  for (const [label, pixels] of cases) {
    assert.throws(
      () => normalizeInput(pixels, [1, 60, 60], options),
      (err: unknown) => err instanceof EmptyContentError && (err as { code: string }).code === 'empty_content',
      label,
    );
  }
});

void test('resizePlane: area averaging when shrinking keeps the mean, linear when enlarging keeps the range', () => {
  const src = Float32Array.from({ length: 12 * 12 }, (_, i) => ((i * 7919) % 13) / 12);
  const mean = (a: Float32Array): number => a.reduce((s, v) => s + v, 0) / a.length;
  assert.ok(Math.abs(mean(resizePlane(src, 12, 12, 4, 3)) - mean(src)) < 1e-6, 'integer factor: exact block means');
  assert.deepEqual(Array.from(resizePlane(Float32Array.from([0, 1, 2, 3]), 2, 2, 1, 1)), [1.5]);
  const up = resizePlane(Float32Array.from([0, 1]), 1, 2, 1, 4);
  assert.deepEqual(Array.from(up), [0, 0.25, 0.75, 1]);
});
