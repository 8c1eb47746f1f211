// SPDX-License-Identifier: MIT
/** Image and multipart fixtures for the bad-input tests, generated in-process. */
import { crc32, gzipSync } from 'node:zlib';
import sharp from 'sharp';

export const solidPng = (width: number, height: number, channels: 3 | 4 = 3): Promise<Buffer> =>
  sharp({ create: { width, height, channels, background: { r: 200, g: 100, b: 50, alpha: 0.5 } } })
    .png()
    .toBuffer();

export async function truncated(format: 'png' | 'jpeg'): Promise<Buffer> {
  const noisy = Buffer.alloc(64 * 64 * 3);
  for (let i = 0; i < noisy.length; i++) noisy[i] = (i * 2654435761) >>> 24;
  const full = await sharp(noisy, { raw: { width: 64, height: 64, channels: 3 } })
    .toFormat(format)
    .toBuffer();
  return full.subarray(0, Math.floor(full.length / 2));
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A PNG whose header claims width×height pixels but carries no pixel data. */
export function headerOnlyPng(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 0, 0, 0, 0], 8);
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([
    signature,
    chunk('IHDR', ihdr),
    chunk('IDAT', Buffer.from(gzipSync(Buffer.alloc(0)))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** 16 px wide, 8 px tall, left half white, right half black, EXIF orientation 6 (display = 90° clockwise). */
export function orientedJpeg(): Promise<Buffer> {
  const pixels = Buffer.alloc(16 * 8);
  for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) pixels[y * 16 + x] = 255;
  return sharp(pixels, { raw: { width: 16, height: 8, channels: 1 } })
    .jpeg({ quality: 100 })
    .withMetadata({ orientation: 6 })
    .toBuffer();
}

export const BOUNDARY = 'XyZboundary';

/** A hand-written multipart body: parts as [headers, body]. */
export function multipart(parts: [string, string | Buffer][], close = true): Buffer {
  const pieces: Buffer[] = [];
  for (const [headers, body] of parts) {
    pieces.push(Buffer.from(`--${BOUNDARY}\r\n${headers}\r\n\r\n`), Buffer.isBuffer(body) ? body : Buffer.from(body), Buffer.from('\r\n'));
  }
  if (close) pieces.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return Buffer.concat(pieces);
}

export const fieldPart = (name: string, value: string): [string, string] => [`Content-Disposition: form-data; name="${name}"`, value];
export const filePart = (name: string, bytes: Buffer, filename = 'x.png'): [string, Buffer] => [
  `Content-Disposition: form-data; name="${name}"; filename="${filename}"\r\nContent-Type: image/png`,
  bytes,
];
