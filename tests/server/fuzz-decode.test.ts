// SPDX-License-Identifier: MIT
// Decode mutation fuzz (docs/serving.md, "How it is tested"): images generated with sharp, mutated
// (bit flips, truncation, chunk duplication, IHDR/SOF size edits with and without a fixed CRC) and
// POSTed to /project of main.ts running as a child process, so a native libvips crash shows up as
// the child's signal. Seeded: FUZZ_SEED reproduces a run, FUZZ_ITERATIONS sizes it. No answer time
// is asserted (a loaded machine is slow, not wrong); the abort below only turns a hang into a failure.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32 } from 'node:zlib';
import sharp, { type Sharp } from 'sharp';
import { Rng } from '../../common/rng.ts';
import { startServerChild, type ServerChild } from '../support/server-child.ts';
import { BOUNDARY, filePart, multipart } from './fixtures.ts';
import { tinyModelDir } from './helpers.ts';

const SEED = Number(process.env.FUZZ_SEED ?? 1_337);
const MAX_ITERATIONS = Number(process.env.FUZZ_ITERATIONS ?? 1000);
const CONCURRENCY = 4;
const HANG_GUARD_MS = 60_000;
const ALLOWED = new Set([200, 400, 413, 415, 422]);
const STACK_TEXT = /at .+\.(js|ts):\d+|node_modules/;

interface SeedImage {
  readonly name: string;
  readonly bytes: Buffer;
  readonly type: string;
}

/** A 40×30 image with structure (gradient + hash noise), so codecs produce non-trivial streams. */
function noisyPixels(channels: 3 | 4): Buffer {
  const px = Buffer.alloc(40 * 30 * channels);
  for (let i = 0; i < px.length; i++) px[i] = ((i * 2654435761) >>> 27) + ((i / channels) % 40) * 5;
  return px;
}

async function seedImages(): Promise<SeedImage[]> {
  const rgb = (): Sharp => sharp(noisyPixels(3), { raw: { width: 40, height: 30, channels: 3 } });
  const rgba = (): Sharp => sharp(noisyPixels(4), { raw: { width: 40, height: 30, channels: 4 } });
  const make = async (name: string, type: string, s: Sharp): Promise<SeedImage> => ({ name, type, bytes: await s.toBuffer() });
  return Promise.all([
    make('png', 'image/png', rgb().png()),
    make('png16', 'image/png', rgb().toColourspace('rgb16').png()),
    make('png-alpha', 'image/png', rgba().png()),
    make('png-grey-interlaced', 'image/png', rgb().greyscale().png({ progressive: true })),
    make('jpeg', 'image/jpeg', rgb().jpeg({ quality: 80 })),
    make('jpeg-progressive', 'image/jpeg', rgb().jpeg({ progressive: true })),
    make('webp', 'image/webp', rgb().webp()),
    make('webp-lossless-alpha', 'image/webp', rgba().webp({ lossless: true })),
    make('gif', 'image/png', rgb().gif()),
    make('tiff', 'image/png', rgb().tiff()),
  ]);
}

interface PngChunk {
  readonly start: number;
  readonly end: number;
  readonly type: string;
}

function pngChunks(bytes: Buffer): PngChunk[] {
  const chunks: PngChunk[] = [];
  for (let at = 8; at + 12 <= bytes.length;) {
    const end = at + 12 + bytes.readUInt32BE(at);
    if (end > bytes.length) break;
    chunks.push({ start: at, end, type: bytes.toString('latin1', at + 4, at + 8) });
    at = end;
  }
  return chunks;
}

function fixCrc(bytes: Buffer, chunk: PngChunk): void {
  bytes.writeUInt32BE(crc32(bytes.subarray(chunk.start + 4, chunk.end - 4)), chunk.end - 4);
}

/** Sizes that hit the edges: zero, one, the pixel cap, past it, and 2^31−1 (libpng's limit). */
function oddDimension(rng: Rng): number {
  const sizes = [0, 1, 2, 40, 4096, 4097, 16_384, 65_535, 100_000, 0x7fffffff, 0xffffffff];
  return rng.uniform() < 0.7 ? sizes[rng.int(sizes.length)]! : 1 + rng.int(20_000);
}

type Mutation = (bytes: Buffer, rng: Rng) => Buffer;

const bitFlips: Mutation = (bytes, rng) => {
  const out = Buffer.from(bytes);
  for (let n = 1 + rng.int(8); n > 0; n--) {
    const i = rng.int(out.length);
    out[i] = out[i]! ^ (1 << rng.int(8));
  }
  return out;
};

const truncate: Mutation = (bytes, rng) => bytes.subarray(0, rng.int(bytes.length));

/** PNG: a whole chunk repeated (IHDR, PLTE, IDAT or IEND twice); others: a byte range repeated. */
const duplicateChunk: Mutation = (bytes, rng) => {
  const chunks = pngChunks(bytes);
  if (chunks.length > 0 && bytes[0] === 0x89) {
    const c = chunks[rng.int(chunks.length)]!;
    return Buffer.concat([bytes.subarray(0, c.end), bytes.subarray(c.start, c.end), bytes.subarray(c.end)]);
  }
  const start = rng.int(bytes.length);
  const end = Math.min(bytes.length, start + 1 + rng.int(64));
  return Buffer.concat([bytes.subarray(0, end), bytes.subarray(start, end), bytes.subarray(end)]);
};

/** PNG IHDR width/height (CRC fixed half the time so the decoder gets past the check); JPEG SOF dims. */
const sizeEdit: Mutation = (bytes, rng) => {
  const out = Buffer.from(bytes);
  const ihdr = pngChunks(out).find((c) => c.type === 'IHDR');
  if (bytes[0] === 0x89 && ihdr !== undefined) {
    if (rng.uniform() < 0.5) out.writeUInt32BE(oddDimension(rng), ihdr.start + 8);
    else out.writeUInt32BE(oddDimension(rng), ihdr.start + 12);
    if (rng.uniform() < 0.5) fixCrc(out, ihdr);
    return out;
  }
  for (let i = 2; i + 9 < out.length; i++) {
    if (out[i] === 0xff && out[i + 1]! >= 0xc0 && out[i + 1]! <= 0xc2) {
      out.writeUInt16BE(oddDimension(rng) & 0xffff, i + 5 + 2 * rng.int(2));
      return out;
    }
  }
  return bitFlips(out, rng);
};

/** Bit flips inside one PNG chunk's data with the CRC recomputed: reaches zlib and the filters. */
const chunkDataFlip: Mutation = (bytes, rng) => {
  const out = Buffer.from(bytes);
  const chunks = pngChunks(out).filter((c) => c.end - c.start > 12);
  if (bytes[0] !== 0x89 || chunks.length === 0) return bitFlips(out, rng);
  const c = chunks[rng.int(chunks.length)]!;
  for (let n = 1 + rng.int(4); n > 0; n--) {
    const i = c.start + 8 + rng.int(c.end - c.start - 12);
    out[i] = out[i]! ^ (1 << rng.int(8));
  }
  fixCrc(out, c);
  return out;
};

const MUTATIONS: readonly [string, Mutation][] = [
  ['bit-flips', bitFlips],
  ['truncate', truncate],
  ['duplicate-chunk', duplicateChunk],
  ['size-edit', sizeEdit],
  ['chunk-data-flip', chunkDataFlip],
];

interface FuzzCase {
  readonly label: string;
  readonly body: Buffer;
  readonly contentType: string;
}

function makeCase(seeds: readonly SeedImage[], rng: Rng): FuzzCase {
  const seed = seeds[rng.int(seeds.length)]!;
  let bytes = seed.bytes;
  const names: string[] = [];
  for (let n = 1 + rng.int(3); n > 0; n--) {
    const [name, mutate] = MUTATIONS[rng.int(MUTATIONS.length)]!;
    bytes = mutate(bytes, rng);
    names.push(name);
  }
  const asMultipart = rng.uniform() < 0.5;
  return {
    label: `${seed.name} ${names.join('+')} ${asMultipart ? 'multipart' : 'raw'}`,
    body: asMultipart ? multipart([filePart('image', bytes)]) : bytes,
    contentType: asMultipart ? `multipart/form-data; boundary=${BOUNDARY}` : seed.type,
  };
}

let server: ServerChild;
let cleanupModel: () => Promise<void>;
before(async () => {
  const model = await tinyModelDir({ channels: 1, height: 28, width: 28, kind: 'identity' }, 'mnist');
  cleanupModel = model.cleanup;
  // Default MAX_INPUT_PIXELS (4096²): the size edits probe the real cap.
  server = await startServerChild({ MODEL_DIR: model.dir, MAX_UPLOADS: '16' });
});
after(async () => {
  await server.stop();
  await cleanupModel();
});

async function post(c: FuzzCase): Promise<{ status: number; text: string; requestId: string | null }> {
  try {
    const res = await fetch(`${server.baseUrl}/project?steps=1`, {
      method: 'POST',
      headers: { 'Content-Type': c.contentType, Accept: 'application/json' },
      body: c.body,
      signal: AbortSignal.timeout(HANG_GUARD_MS),
    });
    const text = await res.text();
    return { status: res.status, text, requestId: res.headers.get('x-request-id') };
  } catch (err) {
    throw new Error(`${c.label}: request failed (${String(err)}); server ${server.exit() ?? 'still running'}\n${server.tail()}`);
  }
}

function checkAnswer(c: FuzzCase, r: Awaited<ReturnType<typeof post>>): void {
  const what = `${c.label} → ${r.status} ${r.text.slice(0, 160)}`;
  assert.ok(ALLOWED.has(r.status), `status not allowed: ${what}`);
  assert.doesNotMatch(r.text, STACK_TEXT, what);
  if (r.status === 200) return;
  const body = JSON.parse(r.text) as { error?: { code?: unknown; message?: unknown }; requestId?: unknown };
  assert.equal(typeof body.error?.code, 'string', what);
  assert.equal(typeof body.error?.message, 'string', what);
  assert.equal(body.requestId, r.requestId, what);
}

async function assertHealthy(afterLabel: string): Promise<void> {
  const res = await fetch(`${server.baseUrl}/healthz`, { signal: AbortSignal.timeout(HANG_GUARD_MS) }).catch((err: unknown) => {
    throw new Error(`/healthz failed after ${afterLabel}: ${String(err)}; server ${server.exit() ?? 'still running'}\n${server.tail()}`);
  });
  assert.equal(res.status, 200);
  await res.arrayBuffer();
}

void test('mutated PNG/JPEG/WebP/GIF/TIFF uploads: every answer is 200/400/413/415/422, server stays up', async (t) => {
  const seeds = await seedImages();
  const rng = new Rng(SEED);
  t.diagnostic(`FUZZ_SEED=${SEED}`);
  const byStatus = new Map<number, number>();
  const started = performance.now();
  let done = 0;
  while (done < MAX_ITERATIONS) {
    const batch = Array.from({ length: CONCURRENCY }, () => makeCase(seeds, rng));
    const answers = await Promise.all(batch.map(post));
    batch.forEach((c, i) => {
      const r = answers[i]!;
      checkAnswer(c, r);
      byStatus.set(r.status, (byStatus.get(r.status) ?? 0) + 1);
    });
    done += batch.length;
    await assertHealthy(batch.map((c) => c.label).join(', '));
  }
  const seconds = (performance.now() - started) / 1000;
  t.diagnostic(`${done} inputs in ${seconds.toFixed(1)} s; by status ${JSON.stringify(Object.fromEntries([...byStatus].sort()))}`);
  assert.equal(server.exit(), null, 'the server process is still running');
  assert.ok(done >= MAX_ITERATIONS, `only ${done} of ${MAX_ITERATIONS} inputs ran`);
  // The fuzz must reach both sides of the decoder: some mutants still decode, some are rejected by it.
  assert.ok((byStatus.get(200) ?? 0) > 0 && (byStatus.get(422) ?? 0) > 0, 'mutations neither too mild nor too destructive');
});
