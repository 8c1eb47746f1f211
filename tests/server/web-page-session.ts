// SPDX-License-Identifier: MIT
// What the web-page tests share: a real app serving two tiny models (`tiny`, 28×28 tanh, and `tiny2`,
// 8×8 identity) on the real worker pool, headless Chromium with console and script errors collected,
// and helpers that read decoded images and draw real pointer strokes.
import type { TestContext } from 'node:test';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import sharp from 'sharp';
import { loadModelCard, type LoadedModel } from '../../common/model-card.ts';
import { createApp } from '../../server/app.ts';
import { parseConfig } from '../../server/config.ts';
import { WorkerPool, sessionSpecFor } from '../../server/inference/pool.ts';
import { writeTinyModelDir } from '../support/tiny-model.ts';
import { skipUnlessAvailable } from '../support/required-tool.ts';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
export const SIDE = 28;
export const SIDE2 = 8;

export const skip = skipUnlessAvailable(
  existsSync(CHROMIUM) ? null : `Chromium is not installed at ${CHROMIUM} (apt-get install -y chromium)`,
);

/** A 28×28 grey diagonal gradient PNG, the kind of file a user would upload. */
export async function gradientPng(): Promise<Buffer> {
  const pixels = Buffer.alloc(SIDE * SIDE);
  for (let y = 0; y < SIDE; y++) for (let x = 0; x < SIDE; x++) pixels[y * SIDE + x] = Math.round(((x + y) / (2 * SIDE - 2)) * 255);
  return sharp(pixels, { raw: { width: SIDE, height: SIDE, channels: 1 } })
    .png()
    .toBuffer();
}

export async function startPool(modelDir: string, logger: Logger): Promise<{ model: LoadedModel; generator: WorkerPool }> {
  const model = await loadModelCard(modelDir);
  const pool = new WorkerPool({ logger, workers: 1, spec: sessionSpecFor(model, { ep: 'cpu', cudaDeviceId: 0, threads: 1 }) });
  await pool.start();
  return { model, generator: pool };
}

/** The app serving `tiny` (28×28) and `tiny2` (8×8); with two models and no mnist, requests must name one. */
export async function startServer(root: string): Promise<{ url: string; close: () => Promise<void> }> {
  const logger = pino({ level: 'silent' });
  const dirs = [join(root, 'tiny'), join(root, 'tiny2')];
  await writeTinyModelDir(dirs[0]!, { channels: 1, height: SIDE, width: SIDE });
  await writeTinyModelDir(dirs[1]!, { channels: 1, height: SIDE2, width: SIDE2, kind: 'identity' }, 'tiny2');
  const config = parseConfig({ MODEL_DIR: dirs[0]!, WORKERS: '1', THREADS_PER_WORKER: '1', HOST: '127.0.0.1', PORT: '0' });
  const models = await Promise.all(dirs.map((dir) => startPool(dir, logger)));
  const { app } = createApp({ config, models, logger });
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => {
      resolve(s);
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      );
      await Promise.all(models.map((m) => m.generator.close()));
    },
  };
}

/** A page whose console errors and script errors are collected into `problems`. */
export async function watchedPage(context: BrowserContext, problems: string[]): Promise<Page> {
  const page = await context.newPage();
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(msg.text());
  });
  page.on('pageerror', (err) => {
    problems.push(err.message);
  });
  return page;
}

export interface Session {
  url: string;
  browser: Browser;
  context: BrowserContext;
  page: Page;
  problems: string[];
}

/** A fresh server and Chromium, both closed (and the models removed) when `t` ends. */
export async function openSession(t: TestContext, contextOptions: { hasTouch?: boolean } = {}): Promise<Session> {
  const root = mkdtempSync(join(tmpdir(), 'ign-web-'));
  const server = await startServer(root);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS }).catch(async (err: unknown) => {
    await server.close();
    throw err;
  });
  t.after(async () => {
    await browser.close();
    await server.close();
    rmSync(root, { recursive: true, force: true });
  });
  const context = await browser.newContext(contextOptions);
  const problems: string[] = [];
  return { url: server.url, browser, context, page: await watchedPage(context, problems), problems };
}

/** Just what the tests read of an <img> (this project compiles without the DOM lib). */
export interface ImgLike {
  naturalWidth: number;
  naturalHeight: number;
  src: string;
}

/** [naturalWidth, naturalHeight, src] of each image matching `selector`. */
export function naturalSizes(page: Page, selector: string): Promise<[number, number, string][]> {
  return page
    .locator(selector)
    .evaluateAll((imgs: ImgLike[]) => imgs.map((i): [number, number, string] => [i.naturalWidth, i.naturalHeight, i.src]));
}

export type Doc = {
  document: { querySelectorAll(s: string): ArrayLike<ImgLike>; getElementById(id: string): { textContent: string } | null };
};

/**
 * Waits until every image matching `selector` (after the first `skip`) is decoded with a width in
 * [min, max]. A function, not a string: a string predicate that has to be polled is evaluated with
 * eval, which the page's CSP refuses.
 */
export function waitForWidths(page: Page, selector: string, min: number, max: number, skip = 0): Promise<unknown> {
  return page.waitForFunction(
    ([sel, lo, hi, from]) => {
      const imgs = Array.from((globalThis as unknown as Doc).document.querySelectorAll(sel)).slice(from);
      return imgs.length > 0 && imgs.every((i) => i.naturalWidth >= lo && i.naturalWidth <= hi);
    },
    [selector, min, max, skip] as const,
    { timeout: 15_000 },
  );
}

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** A mouse stroke through `points` given in pad fractions (0..1), as real pointer events. */
export async function mouseStroke(page: Page, box: Box, points: [number, number][]): Promise<void> {
  const [first, ...rest] = points.map(([fx, fy]) => [box.x + fx * box.width, box.y + fy * box.height] as const);
  await page.mouse.move(first![0], first![1]);
  await page.mouse.down();
  for (const [x, y] of rest) await page.mouse.move(x, y, { steps: 6 });
  await page.mouse.up();
}

/** /project with or without a query (the page names the model there). */
export const isProject = (url: URL): boolean => url.pathname === '/project';

export const deltaText = (page: Page): Promise<string> => page.locator('#draw-delta').innerText();

/**
 * Waits until the pad has settled (the strip is no longer aria-busy: no change waits in the debounce
 * and the latest request has answered) with δ showing a number different from `before`, and the
 * three outputs are decoded images. Waiting for the settled state, not just a new δ, matters on a
 * slow machine: a stroke may send an intermediate request whose answer lands first.
 */
export async function nextProjection(page: Page, before: string): Promise<string> {
  await page.waitForFunction(
    (prev: string) => {
      // No helper function here: this runs in the page, where the test build's name helpers don't exist.
      type Element = { textContent: string | null; getAttribute(name: string): string | null };
      const doc = (globalThis as unknown as { document: { getElementById(id: string): Element | null } }).document;
      const d = doc.getElementById('draw-delta')?.textContent ?? '';
      return d !== prev && d !== '–' && doc.getElementById('draw-strip')?.getAttribute('aria-busy') === 'false';
    },
    before,
    { timeout: 15_000 },
  );
  await waitForWidths(page, '#draw-strip img', 1, Infinity);
  return deltaText(page);
}
