// SPDX-License-Identifier: MIT
// The server's PNG writer, decoded by libvips (sharp): exact pixels back for grey and RGB, odd
// sizes, the thread-pool path for large images, metadata a viewer relies on, and bad sizes refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { inflateSync } from 'node:zlib';
import { encodePngBytes, storedZlib } from '../../common/png-encode.ts';
import { Rng } from '../../common/rng.ts';

function randomBytes(n: number, seed: number): Uint8Array {
  const rng = new Rng(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(rng.uniform() * 256));
}

async function decode(png: Buffer, channels: 1 | 3): Promise<{ data: Buffer; width: number; height: number; format: string | undefined }> {
  const meta = await sharp(png).metadata();
  const pipeline = channels === 1 ? sharp(png).extractChannel(0) : sharp(png);
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  assert.equal(info.channels, channels);
  return { data, width: info.width, height: info.height, format: meta.format };
}

void test('grey and RGB pixels come back exactly, at odd sizes and at sizes past the synchronous limit', async () => {
  for (const [width, height, channels] of [
    [28, 28, 1], // stored, not compressed
    [1, 1, 1],
    [7, 3, 3],
    [64, 64, 3],
    [300, 250, 1], // 75 kB raw: deflated on the thread pool
  ] as const) {
    const pixels = randomBytes(width * height * channels, width + height);
    const png = await encodePngBytes(pixels, width, height, channels);
    const back = await decode(png, channels);
    assert.deepEqual([back.format, back.width, back.height], ['png', width, height]);
    assert.ok(Buffer.from(pixels).equals(back.data), `${width}×${height}×${channels}`);
  }
});

void test('the header says 8-bit greyscale or truecolour, and a wrong buffer or size is refused', async () => {
  const grey = await sharp(await encodePngBytes(new Uint8Array(4), 2, 2, 1)).metadata();
  assert.deepEqual([grey.channels, grey.depth, grey.space], [1, 'uchar', 'b-w']);
  const rgb = await sharp(await encodePngBytes(new Uint8Array(12), 2, 2, 3)).metadata();
  assert.deepEqual([rgb.channels, rgb.space], [3, 'srgb']);
  await assert.rejects(encodePngBytes(new Uint8Array(5), 2, 2, 1), /expected 4 bytes/);
  await assert.rejects(encodePngBytes(new Uint8Array(0), 0, 0, 1), /bad PNG size/);
});

void test('small images are stored: zlib inflates the stored stream back (Adler-32 checked), up to one full block', () => {
  for (const n of [0, 1, 812, 5552, 65535]) {
    const raw = randomBytes(n, n + 1);
    assert.ok(inflateSync(storedZlib(raw)).equals(Buffer.from(raw)), `${n} bytes`);
  }
  // All bytes 255 make the Adler-32 sums wrap the modulus many times.
  const ones = new Uint8Array(65535).fill(255);
  assert.ok(inflateSync(storedZlib(ones)).equals(Buffer.from(ones)));
  assert.throws(() => storedZlib(new Uint8Array(65536)), /at most 65535/);
});

void test('a 28×28 answer takes the stored path: signature, IHDR, IDAT of 812 bytes + 11, IEND', async () => {
  const png = await encodePngBytes(randomBytes(784, 3), 28, 28, 1);
  assert.equal(png.length, 8 + (12 + 13) + (12 + 812 + 11) + 12);
});
