// SPDX-License-Identifier: MIT
/**
 * `npm run project` on the bundled MNIST model with a digit as a person sends it (dark ink on a
 * light page, off-centre, larger than 28×28): by default it is normalised as POST /project does
 * (the card declares MNIST's conventions), so the model sees an MNIST-like digit and f keeps it;
 * `--normalize none` shows the raw resize the model cannot use. Bad flags and a blank page exit 2.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { loadDataset } from '../../training/data/dataset.ts';

const root = new URL('../../', import.meta.url).pathname;
const model = join(root, 'models', 'mnist');
const run = (args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', join(root, 'scripts', 'project.ts'), '--model', model, ...args], {
    cwd: root,
    encoding: 'utf8',
  });

/** Tile i (28×28, 2-pixel gutters) of a one-row grid PNG, in [-1, 1]. */
async function tile(png: string, i: number): Promise<Float32Array> {
  const { data } = await sharp(png)
    .extract({ left: 2 + 30 * i, top: 2, width: 28, height: 28 })
    .grayscale()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return Float32Array.from(data, (v) => v / 127.5 - 1);
}

const meanAbs = (a: Float32Array, b: Float32Array): number => a.reduce((s, v, i) => s + Math.abs(v - b[i]!), 0) / a.length;

void test('project: a dark-on-light, off-centre digit is normalised like an upload and projected onto the digit', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ign-project-'));
  try {
    const digits = await loadDataset({ kind: 'mnist', limit: 1 }, 'test');
    const digit = new Float32Array(784);
    digits.gather(new Uint32Array([0]), digit);
    // Ink 0…1 from MNIST's [-1, 1]; drawn dark on white, 3× larger, in the top-left of a 160×120 page.
    const ink = Buffer.from(Uint8Array.from(digit, (v) => Math.round(255 * (1 - (v + 1) / 2))));
    const glyph = await sharp(ink, { raw: { width: 28, height: 28, channels: 1 } })
      .resize(84, 84)
      .png()
      .toBuffer();
    const page = join(dir, 'page.png');
    await writeFile(
      page,
      await sharp({ create: { width: 160, height: 120, channels: 3, background: '#ffffff' } })
        .composite([{ input: glyph, left: 8, top: 10, blend: 'darken' }])
        .png()
        .toBuffer(),
    );

    const auto = join(dir, 'auto.png');
    const r = run(['--image', page, '--k', '1', '--out', auto]);
    assert.equal(r.status, 0, r.stderr);
    const none = join(dir, 'none.png');
    assert.equal(run(['--image', page, '--k', '1', '--normalize', 'none', '--out', none]).status, 0);

    const [seen, projected, raw] = [await tile(auto, 0), await tile(auto, 1), await tile(none, 0)];
    assert.ok(meanAbs(seen, digit) < 0.15, `normalised input is the digit again: mean |Δ| ${meanAbs(seen, digit)}`);
    assert.ok(meanAbs(projected, digit) < 0.15, `f keeps it: mean |Δ| ${meanAbs(projected, digit)}`);
    assert.ok(meanAbs(raw, digit) > 0.8, `without normalisation the page is light: mean |Δ| ${meanAbs(raw, digit)}`);

    const blank = join(dir, 'blank.png');
    await writeFile(
      blank,
      await sharp({ create: { width: 50, height: 50, channels: 3, background: '#ffffff' } })
        .png()
        .toBuffer(),
    );
    const empty = run(['--image', blank]);
    assert.equal(empty.status, 2);
    assert.match(empty.stderr, /cannot read image .*blank\.png: .*content/i);
    const bad = run(['--image', page, '--normalize', 'maybe']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--normalize must be auto or none/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
