// SPDX-License-Identifier: MIT
/**
 * @file A minimal PNG writer for 8-bit grey or RGB pixels: signature, IHDR, one IDAT, IEND. The
 * server encodes a 28×28 answer per request; through sharp that costs a libvips pipeline and a
 * thread-pool round trip (the largest share of the event loop's per-request time in a CPU profile
 * of /generate), while zlib's deflate of a few hundred bytes takes microseconds. Rows use filter 0
 * (none): for images this small the adaptive filters sharp tries save a few bytes at best. Large
 * images are deflated on the libuv thread pool so the event loop never stalls on them.
 */
import { promisify } from 'node:util';
import { crc32, deflate, deflateSync } from 'node:zlib';

const deflateAsync = promisify(deflate);

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** Raw sizes up to this are deflated synchronously (well under a millisecond). */
const SYNC_LIMIT_BYTES = 64 * 1024;

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** Scanlines with their filter byte (0 = none) in front: the bytes IDAT compresses. */
function scanlines(pixels: Uint8Array, width: number, height: number, channels: 1 | 3): Buffer {
  const stride = width * channels;
  if (pixels.length !== stride * height)
    throw new RangeError(`expected ${stride * height} bytes for ${width}×${height}×${channels}, got ${pixels.length}`);
  const out = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) out.set(pixels.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  return out;
}

function assemble(width: number, height: number, channels: 1 | 3, compressed: Uint8Array): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = channels === 1 ? 0 : 2; // colour type: greyscale | truecolour
  // bytes 10–12: deflate compression, adaptive filtering (method 0), no interlace
  return Buffer.concat([SIGNATURE, chunk('IHDR', header), chunk('IDAT', compressed), chunk('IEND', new Uint8Array(0))]);
}

/** PNG bytes of interleaved 8-bit pixels (H×W×C, C = 1 grey or 3 RGB). */
export async function encodePngBytes(pixels: Uint8Array, width: number, height: number, channels: 1 | 3): Promise<Buffer> {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1)
    throw new RangeError(`bad PNG size ${width}×${height}`);
  const raw = scanlines(pixels, width, height, channels);
  const compressed = raw.length <= SYNC_LIMIT_BYTES ? deflateSync(raw) : await deflateAsync(raw);
  return assemble(width, height, channels, compressed);
}
