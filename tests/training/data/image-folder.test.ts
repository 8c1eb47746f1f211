// SPDX-License-Identifier: MIT
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { loadImageFolder } from '../../../training/data/image-folder.ts';
import { DatasetError } from '../../../training/data/errors.ts';

let root = '';
let folder = '';

/** 40×20 image: left and right quarters red and blue, the centre half green. */
async function stripes(path: string, format: 'png' | 'jpeg' | 'webp'): Promise<void> {
  const raw = Buffer.alloc(40 * 20 * 3);
  for (let y = 0; y < 20; y++) {
    for (let x = 0; x < 40; x++) {
      const channel = x < 10 ? 0 : x < 30 ? 1 : 2;
      raw[(y * 40 + x) * 3 + channel] = 255;
    }
  }
  await sharp(raw, { raw: { width: 40, height: 20, channels: 3 } })
    [format]({ quality: 100, lossless: format === 'webp' })
    .toFile(path);
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'image-folder-'));
  folder = join(root, 'images');
  await mkdir(join(folder, 'nested', 'deeper'), { recursive: true });
  await stripes(join(folder, 'a.png'), 'png');
  await stripes(join(folder, 'b.JPG'), 'jpeg');
  await stripes(join(folder, 'nested', 'c.webp'), 'webp');
  // A grayscale source: mid-gray 100, square.
  await sharp({ create: { width: 12, height: 12, channels: 3, background: { r: 100, g: 100, b: 100 } } })
    .grayscale()
    .png()
    .toFile(join(folder, 'nested', 'deeper', 'd.png'));
  await writeFile(join(folder, 'broken.png'), Buffer.from('\x89PNG\r\n\x1a\nthis is not really a png'));
  await writeFile(join(folder, 'notes.txt'), 'ignored');
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

function pixel(pixels: Uint8Array, image: number, size: number, channels: number, y: number, x: number): number[] {
  const plane = size * size;
  return Array.from({ length: channels }, (_, c) => pixels[image * channels * plane + c * plane + y * size + x]!);
}

void test('decodes JPEG/PNG/WebP recursively in path order, centre-cropped, skipping the corrupt file', async () => {
  const result = await loadImageFolder({ path: folder, size: 8, channels: 3 });
  assert.equal(result.n, 4);
  assert.deepEqual(result.shape, [3, 8, 8]);
  assert.equal(result.pixels.length, 4 * 3 * 64);
  assert.deepEqual(
    result.skipped.map((s) => s.file),
    ['broken.png'],
  );
  assert.ok(result.skipped[0]!.reason.length > 0);
  // Sorted: a.png, b.JPG, nested/c.webp, nested/deeper/d.png. The crop keeps only the green centre.
  for (const image of [0, 1, 2]) {
    for (const [y, x] of [
      [0, 0],
      [4, 4],
      [7, 7],
    ] as const) {
      const [r, g, b] = pixel(result.pixels, image, 8, 3, y, x);
      assert.ok(r! < 40 && g! > 215 && b! < 40, `image ${image} (${y}, ${x}) = ${r},${g},${b}`);
    }
  }
  assert.deepEqual(pixel(result.pixels, 3, 8, 3, 3, 3), [100, 100, 100], 'a gray source fills all three channels');
});

void test('grayscale output has one channel', async () => {
  const result = await loadImageFolder({ path: folder, size: 6, channels: 1 });
  assert.deepEqual(result.shape, [1, 6, 6]);
  assert.equal(result.pixels.length, 4 * 36);
  const green = result.pixels[0]!;
  assert.ok(green > 120 && green < 220, `luma of pure green: ${green}`);
  assert.equal(result.pixels[3 * 36], 100);
});

void test('limit keeps the first images in path order', async () => {
  const result = await loadImageFolder({ path: folder, size: 4, channels: 3, limit: 2 });
  assert.equal(result.n, 2);
  assert.equal(result.pixels.length, 2 * 48);
});

void test('the on-disk cache is reused until the folder changes', async () => {
  const cacheFile = join(root, 'cache', 'folder.u8');
  const first = await loadImageFolder({ path: folder, size: 8, channels: 3, cacheFile });
  const second = await loadImageFolder({ path: folder, size: 8, channels: 3, cacheFile });
  assert.equal(first.fromCache, false);
  assert.equal(second.fromCache, true);
  assert.deepEqual(second.pixels, first.pixels);
  assert.deepEqual(second.skipped, first.skipped);
  const otherSize = await loadImageFolder({ path: folder, size: 4, channels: 3, cacheFile });
  assert.equal(otherSize.fromCache, false, 'another size invalidates the cache');
  await utimes(join(folder, 'a.png'), new Date(), new Date(Date.now() + 5000));
  const touched = await loadImageFolder({ path: folder, size: 4, channels: 3, cacheFile });
  assert.equal(touched.fromCache, false, 'a touched file invalidates the cache');
});

void test('bad paths, empty folders and folders of undecodable files give clear errors', async () => {
  await assert.rejects(loadImageFolder({ path: join(root, 'missing'), size: 8, channels: 3 }), /image folder .*missing does not exist/);
  await assert.rejects(loadImageFolder({ path: join(folder, 'a.png'), size: 8, channels: 3 }), /is not a directory/);
  const empty = join(root, 'empty');
  await mkdir(join(empty, 'sub'), { recursive: true });
  await writeFile(join(empty, 'readme.md'), 'no images here');
  await assert.rejects(loadImageFolder({ path: empty, size: 8, channels: 3 }), /no \.jpg\/\.jpeg\/\.png\/\.webp images under/);
  await writeFile(join(empty, 'sub', 'x.jpg'), 'garbage');
  await assert.rejects(
    loadImageFolder({ path: empty, size: 8, channels: 3 }),
    (err: unknown) => err instanceof DatasetError && /none of the 1 images .* could be decoded \(sub\/x\.jpg: /.test(err.message),
  );
});
