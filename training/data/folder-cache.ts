// SPDX-License-Identifier: MIT
/**
 * On-disk cache of a decoded image folder: ASCII magic "IGNIMGU8", uint32 LE header length, a JSON
 * header {version, fingerprint, shape, n, skipped}, then n×C×S×S uint8 pixels. A cache whose
 * fingerprint differs (files added, removed or touched; other S, C or limit) is ignored and rebuilt.
 */
import { createHash } from 'node:crypto';
import { mkdir, open, rename, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { shapeSize, type ImageShape } from '../../common/fft.ts';
import type { SkippedFile } from './image-folder.ts';
import { sharedUint8 } from './shared-images.ts';

const MAGIC = 'IGNIMGU8';
const VERSION = 1;

interface CacheHeader {
  version: number;
  fingerprint: string;
  shape: [number, number, number];
  n: number;
  skipped: SkippedFile[];
}

export interface CachedPixels {
  readonly pixels: Uint8Array;
  readonly n: number;
  readonly skipped: readonly SkippedFile[];
}

/** Hash of the relative file list with sizes and mtimes, plus the decode settings. */
export function folderFingerprint(
  files: readonly { path: string; size: number; mtimeMs: number }[],
  shape: ImageShape,
  limit: number,
): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ version: VERSION, shape, limit: Number.isFinite(limit) ? limit : null }));
  for (const f of files) hash.update(`${f.path}\0${f.size}\0${Math.round(f.mtimeMs)}\n`);
  return hash.digest('hex');
}

/** The cached tensor, or null when the file is absent, malformed or stale. */
export async function readFolderCache(file: string, fingerprint: string, shape: ImageShape): Promise<CachedPixels | null> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch {
    return null;
  }
  try {
    const header = await readHeader(handle);
    const imageBytes = shapeSize(shape);
    const { size } = await handle.stat();
    const stale =
      header?.version !== VERSION ||
      header.fingerprint !== fingerprint ||
      JSON.stringify(header.shape) !== JSON.stringify(shape) ||
      size !== header.payloadStart + header.n * imageBytes;
    if (stale) return null;
    const pixels = sharedUint8(header.n * imageBytes);
    await readFully(handle, pixels, header.payloadStart);
    return { pixels, n: header.n, skipped: header.skipped };
  } finally {
    await handle.close();
  }
}

async function readHeader(handle: FileHandle): Promise<(CacheHeader & { payloadStart: number }) | null> {
  const prefix = Buffer.alloc(12);
  const { bytesRead } = await handle.read(prefix, 0, 12, 0);
  if (bytesRead < 12 || prefix.toString('ascii', 0, 8) !== MAGIC) return null;
  const headerLength = prefix.readUInt32LE(8);
  const text = Buffer.alloc(headerLength);
  if ((await handle.read(text, 0, headerLength, 12)).bytesRead < headerLength) return null;
  try {
    return { ...(JSON.parse(text.toString('utf8')) as CacheHeader), payloadStart: 12 + headerLength };
  } catch {
    return null;
  }
}

/** fs.readFile stops at 2 GiB; a 200k-image cache is larger, so read in chunks. */
async function readFully(handle: FileHandle, out: Uint8Array, position: number): Promise<void> {
  const CHUNK = 1 << 26;
  for (let offset = 0; offset < out.length;) {
    const { bytesRead } = await handle.read(out, offset, Math.min(CHUNK, out.length - offset), position + offset);
    if (bytesRead === 0) throw new Error('folder cache ended early');
    offset += bytesRead;
  }
}

export async function writeFolderCache(file: string, fingerprint: string, shape: ImageShape, data: CachedPixels): Promise<void> {
  const header: CacheHeader = {
    version: VERSION,
    fingerprint,
    shape: [shape[0], shape[1], shape[2]],
    n: data.n,
    skipped: [...data.skipped],
  };
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const prefix = Buffer.alloc(12);
  prefix.write(MAGIC, 0, 'ascii');
  prefix.writeUInt32LE(headerBytes.length, 8);
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  const handle = await open(tmp, 'w');
  try {
    await handle.write(Buffer.concat([prefix, headerBytes]));
    // writeFile continues at the current position and loops, unlike one write() (capped near 2 GiB).
    await handle.writeFile(data.pixels);
  } finally {
    await handle.close();
  }
  await rename(tmp, file);
}
