// SPDX-License-Identifier: MIT
// POST /project with a card that declares input conventions: real PNGs decoded by sharp, the
// normaliser, and the identity model, so the output is exactly what f received.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import request from 'supertest';
import { MNIST_CONVENTIONS } from '../../common/model-card.ts';
import { Rng } from '../../common/rng.ts';
import { assertError, assertSchema, startRealApp, type RealServer } from './helpers.ts';

let server: RealServer;
before(async () => {
  server = await startRealApp({ channels: 1, height: 28, width: 28, kind: 'identity', conventions: MNIST_CONVENTIONS });
});
after(async () => {
  await server.close();
});

const project = (png: Buffer, query = ''): request.Test =>
  request(server.handle.app).post(`/project${query}`).set('Content-Type', 'image/png').set('Accept', 'application/json').send(png);

const PAGE = { width: 120, height: 90 } as const;

/** A person's digit: a dark "7" (bar and diagonal, 6 px strokes) off-centre on a 120×90 white page, grey levels. */
function darkSevenPage(): Uint8Array {
  const { width, height } = PAGE;
  const pixels = new Uint8Array(width * height).fill(245);
  for (let y = 10; y < 70; y++) {
    for (let x = 70; x < 110; x++) {
      const bar = y < 16;
      const diagonal = Math.abs(x - (110 - (y - 10) * (40 / 60))) < 3;
      if (bar || diagonal) pixels[y * width + x] = 20;
    }
  }
  return pixels;
}

async function darkSevenOnWhite(): Promise<Buffer> {
  return sharp(darkSevenPage(), { raw: { ...PAGE, channels: 1 } })
    .png()
    .toBuffer();
}

/** The same page photographed: colour JPEG, light falling by 45 % from the top right to the bottom left, sensor noise σ = 8 grey levels. */
async function darkSevenPhotographed(): Promise<Buffer> {
  const { width, height } = PAGE;
  const page = darkSevenPage();
  const rng = new Rng(11);
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const light = 1 - (0.45 * (y / (height - 1) + (1 - x / (width - 1)))) / 2;
      const v = page[y * width + x]! * light;
      // A warm cast: red a little brighter, blue a little darker, each with its own noise.
      [1.04, 1, 0.9].forEach(
        (tint, c) => (rgb[(y * width + x) * 3 + c] = Math.min(255, Math.max(0, Math.round(v * tint + 8 * rng.normal())))),
      );
    }
  }
  return sharp(rgb, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 85 })
    .toBuffer();
}

async function gray(pngBase64: string): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(Buffer.from(pngBase64, 'base64')).greyscale().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

void test('normalize defaults to auto: a dark digit on a light page arrives light-on-dark, 20 px, mass-centred', async () => {
  const res = await project(await darkSevenOnWhite());
  assert.equal(res.status, 200, res.text.slice(0, 200));
  assertSchema('ProjectResponse', res.body);
  const body = res.body as { normalize: string; normalizedInput: string; input: string; output: string };
  assert.equal(body.normalize, 'auto');
  assert.equal(body.normalizedInput, body.input, 'no corruption: f received the normalised image');
  const { data, width, height } = await gray(body.normalizedInput);
  assert.deepEqual([width, height], [28, 28]);
  assert.equal(data[0], 0, 'background is dark');
  let total = 0;
  let sx = 0;
  let sy = 0;
  let top = 28;
  let bottom = -1;
  for (let y = 0; y < 28; y++) {
    for (let x = 0; x < 28; x++) {
      const m = data[y * 28 + x]! / 255;
      total += m;
      sx += m * x;
      sy += m * y;
      if (m > 0.5) {
        top = Math.min(top, y);
        bottom = Math.max(bottom, y);
      }
    }
  }
  assert.ok(Math.abs(sx / total - 14) <= 0.5 && Math.abs(sy / total - 14) <= 0.5, `centre of mass (${sx / total}, ${sy / total})`);
  assert.ok(bottom - top + 1 >= 19, `the taller side fills the 20 px box (${bottom - top + 1})`);
  assert.equal(body.output, body.input, 'identity f');
});

void test('a photographed page (colour JPEG, uneven light, sensor noise) is normalised like the evenly lit one', async () => {
  const even = await gray(((await project(await darkSevenOnWhite())).body as { normalizedInput: string }).normalizedInput);
  const res = await project(await darkSevenPhotographed());
  assert.equal(res.status, 200, res.text.slice(0, 200));
  assertSchema('ProjectResponse', res.body);
  const photo = await gray((res.body as { normalizedInput: string }).normalizedInput);
  assert.deepEqual([photo.width, photo.height], [28, 28]);
  assert.ok(
    Math.max(photo.data[0]!, photo.data[27]!, photo.data[27 * 28]!, photo.data[28 * 28 - 1]!) <= 10,
    'dark corners: the shadow is not ink',
  );
  let difference = 0;
  for (let p = 0; p < 28 * 28; p++) difference += Math.abs(photo.data[p]! - even.data[p]!) / 255 / (28 * 28);
  assert.ok(difference < 0.05, `mean difference to the evenly lit page ${difference.toFixed(3)}`);
});

void test('the same page lying on a dark desk (strokes declared): the digit on it is normalised, not the sheet', async () => {
  const even = await gray(((await project(await darkSevenOnWhite())).body as { normalizedInput: string }).normalizedInput);
  const side = 200;
  const desk = new Uint8Array(side * side).fill(40);
  const page = darkSevenPage();
  for (let y = 0; y < PAGE.height; y++) desk.set(page.subarray(y * PAGE.width, (y + 1) * PAGE.width), (60 + y) * side + 30);
  const res = await project(
    await sharp(desk, { raw: { width: side, height: side, channels: 1 } })
      .png()
      .toBuffer(),
  );
  assert.equal(res.status, 200, res.text.slice(0, 200));
  const onDesk = await gray((res.body as { normalizedInput: string }).normalizedInput);
  let difference = 0;
  for (let p = 0; p < 28 * 28; p++) difference += Math.abs(onDesk.data[p]! - even.data[p]!) / 255 / (28 * 28);
  assert.ok(difference < 0.05, `mean difference to the page alone ${difference.toFixed(3)}`);
  const blank = new Uint8Array(side * side).fill(40);
  for (let y = 0; y < PAGE.height; y++) blank.fill(245, (60 + y) * side + 30, (60 + y) * side + 30 + PAGE.width);
  assertError(
    await project(
      await sharp(blank, { raw: { width: side, height: side, channels: 1 } })
        .png()
        .toBuffer(),
    ),
    422,
    'empty_content',
  );
});

void test('normalize=none only resizes: the light page stays light', async () => {
  const res = await project(await darkSevenOnWhite(), '?normalize=none');
  assert.equal(res.status, 200);
  assertSchema('ProjectResponse', res.body);
  const body = res.body as { normalize: string; normalizedInput?: string; input: string };
  assert.equal(body.normalize, 'none');
  assert.equal(body.normalizedInput, undefined);
  const { data } = await gray(body.input);
  assert.ok(data[0]! > 200, `corner ${data[0]}`);
});

void test('a blank page or a uniform image → 422 empty_content; a bad normalize value → 400', async () => {
  for (const level of [255, 0, 128]) {
    const png = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: level, g: level, b: level } } })
      .png()
      .toBuffer();
    assertError(await project(png), 422, 'empty_content');
    const plain = await project(png, '?normalize=none');
    assert.equal(plain.status, 200, 'without normalisation a uniform image is projected as before');
  }
  assertError(await project(await darkSevenOnWhite(), '?normalize=yes'), 400, 'invalid_normalize');
});

/** Strokes of `ink` (0–255) on a fully transparent 96×96 canvas: what a drawing app or canvas export sends. */
async function strokesOnTransparent(ink: number): Promise<Buffer> {
  const side = 96;
  const rgba = new Uint8Array(side * side * 4); // all transparent black
  for (let y = 20; y < 76; y++) {
    for (let x = 40; x < 56; x++) {
      const i = (y * side + x) * 4;
      rgba.set([ink, ink, ink, 255], i);
    }
  }
  return sharp(rgba, { raw: { width: side, height: side, channels: 4 } })
    .png()
    .toBuffer();
}

void test('a transparent PNG keeps its strokes: dark ink is flattened on white (then inverted), light ink on black', async () => {
  for (const ink of [10, 240]) {
    const res = await project(await strokesOnTransparent(ink));
    assert.equal(res.status, 200, `ink ${ink}: ${res.text.slice(0, 200)}`);
    const { data } = await gray((res.body as { normalizedInput: string }).normalizedInput);
    assert.equal(data[0], 0, `ink ${ink}: background is dark`);
    assert.ok(Math.max(...data) > 200, `ink ${ink}: the stroke is light`);
  }
});
