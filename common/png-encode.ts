// SPDX-License-Identifier: MIT
/**
 * @file A minimal PNG writer for 8-bit grey or RGB pixels: signature, IHDR, one IDAT, IEND. The
 * server encodes a 28×28 answer per request; through sharp that costs a libvips pipeline and a
 * thread-pool round trip (the largest share of the event loop's per-request time in a CPU profile
 * of /generate), while zlib's deflate of a few hundred bytes takes microseconds. Rows use filter 0
 * (none): for images this small the adaptive filters sharp tries save a few bytes at best. Large
 * images are deflated on the libuv thread pool so the event loop never stalls on them. Small ones
 * (one 28×28 answer: 812 raw bytes) are not compressed at all but written as stored deflate blocks:
 * a zlib call costs about 50 µs of CPU per image here, nearly all of it setting up the stream,
 * to save about 300 bytes; a later CPU profile of /generate at 32 connections put it at 8 % of the
 * event loop.
 */
import { promisify } from 'node:util';
import { crc32, deflate, deflateSync } from 'node:zlib';

const deflateAsync = promisify(deflate);

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** Raw sizes up to this are stored uncompressed (one stored block holds at most 65,535 bytes). */
const STORE_LIMIT_BYTES = 4 * 1024;
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

/**
 * A zlib stream (RFC 1950) holding raw in one stored deflate block (RFC 1951, "Non-compressed blocks"): header 78 01,
 * then BFINAL = 1 / BTYPE = 00, LEN and its one's complement (little-endian), the bytes, Adler-32.
 */
export function storedZlib(raw: Uint8Array): Buffer {
  if (raw.length > 0xffff) throw new RangeError(`a stored block holds at most 65535 bytes, got ${raw.length}`);
  const out = Buffer.alloc(2 + 5 + raw.length + 4);
  out[0] = 0x78;
  out[1] = 0x01;
  out[2] = 0x01;
  out.writeUInt16LE(raw.length, 3);
  out.writeUInt16LE(~raw.length & 0xffff, 5);
  out.set(raw, 7);
  let a = 1;
  let b = 0;
  for (let i = 0; i < raw.length; i++) {
    a = (a + raw[i]!) % 65521;
    b = (b + a) % 65521;
  }
  out.writeUInt32BE(((b << 16) | a) >>> 0, 7 + raw.length);
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
  const compressed =
    raw.length <= STORE_LIMIT_BYTES ? storedZlib(raw) : raw.length <= SYNC_LIMIT_BYTES ? deflateSync(raw) : await deflateAsync(raw);
  return assemble(width, height, channels, compressed);
}
