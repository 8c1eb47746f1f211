// SPDX-License-Identifier: MIT
// The web page in headless Chromium against the real app (real worker pool, tiny real ONNX model,
// the app's own CSP): generate renders a grid, projecting an upload renders f, f² and δ, and the
// browser reports no errors (a CSP violation or script error shows up as a console error).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { chromium, type Page } from 'playwright-core';
import sharp from 'sharp';
import { loadModelCard } from '../../common/model-card.ts';
import { createApp } from '../../server/app.ts';
import { parseConfig } from '../../server/config.ts';
import { WorkerPool } from '../../server/inference/pool.ts';
import { writeTinyModelDir } from '../support/tiny-model.ts';
import { skipUnlessAvailable } from '../support/required-tool.ts';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SIDE = 28;

const skip = skipUnlessAvailable(existsSync(CHROMIUM) ? null : `Chromium is not installed at ${CHROMIUM} (apt-get install -y chromium)`);

/** A 28×28 grey diagonal gradient PNG, the kind of file a user would upload. */
async function gradientPng(): Promise<Buffer> {
  const pixels = Buffer.alloc(SIDE * SIDE);
  for (let y = 0; y < SIDE; y++) for (let x = 0; x < SIDE; x++) pixels[y * SIDE + x] = Math.round(((x + y) / (2 * SIDE - 2)) * 255);
  return sharp(pixels, { raw: { width: SIDE, height: SIDE, channels: 1 } }).png().toBuffer();
}

async function startServer(modelDir: string): Promise<{ url: string; close: () => Promise<void> }> {
  const logger = pino({ level: 'silent' });
  const config = parseConfig({ MODEL_DIR: modelDir, WORKERS: '1', THREADS_PER_WORKER: '1', HOST: '127.0.0.1', PORT: '0' });
  const model = await loadModelCard(modelDir);
  const { card } = model;
  const pool = new WorkerPool({
    logger, workers: 1,
    spec: { modelPath: model.modelPath, inputName: card.input.name, outputName: card.output.name, dims: [card.image.channels, card.image.height, card.image.width], ep: 'cpu', cudaDeviceId: 0, threads: 1 },
  });
  await pool.start();
  const { app } = createApp({ config, model, generator: pool, logger });
  const server = await new Promise<Server>((resolve) => { const s = app.listen(0, '127.0.0.1', () => { resolve(s); }); });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => { resolve(); }));
      await pool.close();
    },
  };
}

/** Just what the tests read of an <img> (this project compiles without the DOM lib). */
interface ImgLike { naturalWidth: number; naturalHeight: number; src: string }

/** [naturalWidth, naturalHeight, src] of each image matching `selector`. */
function naturalSizes(page: Page, selector: string): Promise<[number, number, string][]> {
  return page.locator(selector).evaluateAll((imgs: ImgLike[]) => imgs.map((i): [number, number, string] => [i.naturalWidth, i.naturalHeight, i.src]));
}

void test('the page generates a grid and projects an upload with f, f² and δ', { skip, timeout: 90_000 }, async (t) => {
  const modelDir = mkdtempSync(join(tmpdir(), 'ign-web-'));
  await writeTinyModelDir(modelDir, { channels: 1, height: SIDE, width: SIDE });
  const server = await startServer(modelDir);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS }).catch(async (err: unknown) => {
    await server.close();
    throw err;
  });
  t.after(async () => {
    await browser.close();
    await server.close();
    rmSync(modelDir, { recursive: true, force: true });
  });
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on('console', (msg) => { if (msg.type() === 'error') problems.push(msg.text()); });
  page.on('pageerror', (err) => { problems.push(err.message); });
  await page.goto(server.url);
  await page.getByText('Model ready.').waitFor({ timeout: 10_000 });

  await t.test('generate: a 3×3 grid renders from a blob: URL', async () => {
    await page.fill('#gen-seed', '42');
    await page.selectOption('#gen-count', '9');
    await page.locator('#gen-steps').fill('3');
    assert.equal(await page.textContent('#gen-steps-value'), '3');
    await page.click('#generate-button');
    await page.locator('#generate-result').waitFor({ state: 'visible', timeout: 15_000 });
    await page.waitForFunction("document.getElementById('generate-image').naturalWidth > 0");
    const [[width, height, src] = [0, 0, '']] = await naturalSizes(page, '#generate-image');
    assert.ok(width > 2 * SIDE && width < 4 * SIDE, `grid width ${width} spans 3 images`);
    assert.equal(height, width);
    assert.match(src, /^blob:/);
    assert.match(await page.textContent('#generate-caption') ?? '', /9 images · seed 42 · f applied 3×/);
    assert.match(await page.getAttribute('#generate-image', 'alt') ?? '', /seed 42/);
  });

  await t.test('project: upload + noise corruption shows input, corrupted input, f, f² and δ', async () => {
    const png = await gradientPng();
    await page.setInputFiles('#proj-file', { name: 'gradient.png', mimeType: 'image/png', buffer: png });
    await page.selectOption('#proj-corrupt', 'noise');
    await page.locator('#proj-steps').fill('2');
    await page.click('#project-button');
    await page.locator('#project-result').waitFor({ state: 'visible', timeout: 15_000 });
    await page.waitForFunction("[...document.querySelectorAll('#project-strip img')].every((i) => i.naturalWidth > 0)");
    const captions = await page.locator('#project-strip figcaption').allTextContents();
    assert.deepEqual(captions, ['upload', 'corrupted (noise)', 'f(x)', 'f²(x)']);
    for (const [width, height, src] of await naturalSizes(page, '#project-strip img')) {
      assert.equal(width, SIDE);
      assert.equal(height, SIDE);
      assert.match(src, /^blob:/);
    }
    // The page shows the server's δ: the same request straight to the API gives the same score.
    const form = new FormData();
    form.append('image', new Blob([png], { type: 'image/png' }), 'gradient.png');
    const direct = await fetch(`${server.url}/project?steps=2&corrupt=noise`, { method: 'POST', headers: { accept: 'application/json' }, body: form });
    const { oodScore } = await direct.json() as { oodScore: number };
    assert.ok(oodScore > 0);
    assert.equal(await page.textContent('#project-delta'), oodScore.toFixed(4));
  });

  await t.test('a server error is shown to the user, not swallowed', async () => {
    // Past the slider's range: the server's 400 must reach the alert region.
    await page.locator('#proj-steps').evaluate((el: { max: string; value: string }) => { el.max = '999'; el.value = '999'; });
    await page.click('#project-button');
    const alert = page.locator('#project-error');
    await alert.waitFor({ state: 'visible', timeout: 10_000 });
    assert.match(await alert.textContent() ?? '', /\(400 invalid_steps\)/);
  });

  assert.deepEqual(problems.filter((p) => !p.includes('400 (Bad Request)')), [], 'no console errors or CSP violations');
});
