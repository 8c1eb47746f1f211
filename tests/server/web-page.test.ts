// SPDX-License-Identifier: MIT
// The web page in headless Chromium against the real app (real worker pool, tiny real ONNX model,
// the app's own CSP): generate renders a grid, projecting an upload renders f, f² and δ, the model
// picker sends the picked model with every request, and the browser reports no errors (a CSP
// violation or script error shows up as a console error). The server serves two models that differ
// in size and behaviour: `tiny` (28×28, tanh) and `tiny2` (8×8, identity).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
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
import { WorkerPool } from '../../server/inference/pool.ts';
import { writeTinyModelDir } from '../support/tiny-model.ts';
import { skipUnlessAvailable } from '../support/required-tool.ts';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const SIDE = 28;
const SIDE2 = 8;

const skip = skipUnlessAvailable(existsSync(CHROMIUM) ? null : `Chromium is not installed at ${CHROMIUM} (apt-get install -y chromium)`);

/** A 28×28 grey diagonal gradient PNG, the kind of file a user would upload. */
async function gradientPng(): Promise<Buffer> {
  const pixels = Buffer.alloc(SIDE * SIDE);
  for (let y = 0; y < SIDE; y++) for (let x = 0; x < SIDE; x++) pixels[y * SIDE + x] = Math.round(((x + y) / (2 * SIDE - 2)) * 255);
  return sharp(pixels, { raw: { width: SIDE, height: SIDE, channels: 1 } })
    .png()
    .toBuffer();
}

async function startPool(modelDir: string, logger: Logger): Promise<{ model: LoadedModel; generator: WorkerPool }> {
  const model = await loadModelCard(modelDir);
  const { card } = model;
  const pool = new WorkerPool({
    logger,
    workers: 1,
    spec: {
      modelPath: model.modelPath,
      inputName: card.input.name,
      outputName: card.output.name,
      dims: [card.image.channels, card.image.height, card.image.width],
      ep: 'cpu',
      cudaDeviceId: 0,
      threads: 1,
    },
  });
  await pool.start();
  return { model, generator: pool };
}

/** The app serving `tiny` (28×28) and `tiny2` (8×8); with two models and no mnist, requests must name one. */
async function startServer(root: string): Promise<{ url: string; close: () => Promise<void> }> {
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
async function watchedPage(context: BrowserContext, problems: string[]): Promise<Page> {
  const page = await context.newPage();
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(msg.text());
  });
  page.on('pageerror', (err) => {
    problems.push(err.message);
  });
  return page;
}

interface Session {
  url: string;
  browser: Browser;
  context: BrowserContext;
  page: Page;
  problems: string[];
}

/** A fresh server and Chromium, both closed (and the models removed) when `t` ends. */
async function openSession(t: TestContext, contextOptions: { hasTouch?: boolean } = {}): Promise<Session> {
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
interface ImgLike {
  naturalWidth: number;
  naturalHeight: number;
  src: string;
}

/** [naturalWidth, naturalHeight, src] of each image matching `selector`. */
function naturalSizes(page: Page, selector: string): Promise<[number, number, string][]> {
  return page
    .locator(selector)
    .evaluateAll((imgs: ImgLike[]) => imgs.map((i): [number, number, string] => [i.naturalWidth, i.naturalHeight, i.src]));
}

type Doc = { document: { querySelectorAll(s: string): ArrayLike<ImgLike>; getElementById(id: string): { textContent: string } | null } };

/**
 * Waits until every image matching `selector` (after the first `skip`) is decoded with a width in
 * [min, max]. A function, not a string: a string predicate that has to be polled is evaluated with
 * eval, which the page's CSP refuses.
 */
function waitForWidths(page: Page, selector: string, min: number, max: number, skip = 0): Promise<unknown> {
  return page.waitForFunction(
    ([sel, lo, hi, from]) => {
      const imgs = Array.from((globalThis as unknown as Doc).document.querySelectorAll(sel)).slice(from);
      return imgs.length > 0 && imgs.every((i) => i.naturalWidth >= lo && i.naturalWidth <= hi);
    },
    [selector, min, max, skip] as const,
    { timeout: 15_000 },
  );
}

void test('the page generates a grid and projects an upload with f, f² and δ', { skip, timeout: 300_000 }, async (t) => {
  const { url, page, problems } = await openSession(t);
  await page.goto(url);
  await page.getByText('Model ready: tiny').waitFor({ timeout: 10_000 });

  await t.test('generate: a 3×3 grid renders from a blob: URL', async () => {
    await page.fill('#gen-seed', '42');
    await page.selectOption('#gen-count', '9');
    await page.locator('#gen-steps').fill('3');
    assert.equal(await page.textContent('#gen-steps-value'), '3');
    await page.click('#generate-button');
    await page.locator('#generate-result').waitFor({ state: 'visible', timeout: 15_000 });
    await waitForWidths(page, '#generate-image', 1, Infinity);
    const [[width, height, src] = [0, 0, '']] = await naturalSizes(page, '#generate-image');
    assert.ok(width > 2 * SIDE && width < 4 * SIDE, `grid width ${width} spans 3 images`);
    assert.equal(height, width);
    assert.match(src, /^blob:/);
    assert.match((await page.textContent('#generate-caption')) ?? '', /9 images · seed 42 · f applied 3×/);
    assert.match((await page.getAttribute('#generate-image', 'alt')) ?? '', /seed 42/);
  });

  await t.test('project: upload + noise corruption shows input, corrupted input, f, f² and δ', async () => {
    const png = await gradientPng();
    await page.setInputFiles('#proj-file', { name: 'gradient.png', mimeType: 'image/png', buffer: png });
    await page.selectOption('#proj-corrupt', 'noise');
    await page.locator('#proj-steps').fill('2');
    await page.click('#project-button');
    await page.locator('#project-result').waitFor({ state: 'visible', timeout: 15_000 });
    await waitForWidths(page, '#project-strip img', 1, Infinity);
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
    const direct = await fetch(`${url}/project?steps=2&corrupt=noise&model=tiny`, {
      method: 'POST',
      headers: { accept: 'application/json' },
      body: form,
    });
    const { oodScore } = (await direct.json()) as { oodScore: number };
    assert.ok(oodScore > 0);
    assert.equal(await page.textContent('#project-delta'), oodScore.toFixed(4));
  });

  await t.test('a server error is shown to the user, not swallowed', async () => {
    // Past the slider's range: the server's 400 must reach the alert region.
    await page.locator('#proj-steps').evaluate((el: { max: string; value: string }) => {
      el.max = '999';
      el.value = '999';
    });
    await page.click('#project-button');
    const alert = page.locator('#project-error');
    await alert.waitFor({ state: 'visible', timeout: 10_000 });
    assert.match((await alert.textContent()) ?? '', /\(400 invalid_steps\)/);
  });

  assert.deepEqual(
    problems.filter((p) => !p.includes('400 (Bad Request)')),
    [],
    'no console errors or CSP violations',
  );
});

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** A mouse stroke through `points` given in pad fractions (0..1), as real pointer events. */
async function mouseStroke(page: Page, box: Box, points: [number, number][]): Promise<void> {
  const [first, ...rest] = points.map(([fx, fy]) => [box.x + fx * box.width, box.y + fy * box.height] as const);
  await page.mouse.move(first![0], first![1]);
  await page.mouse.down();
  for (const [x, y] of rest) await page.mouse.move(x, y, { steps: 6 });
  await page.mouse.up();
}

/** /project with or without a query (the page names the model there). */
const isProject = (url: URL): boolean => url.pathname === '/project';

const deltaText = (page: Page): Promise<string> => page.locator('#draw-delta').innerText();

/** Waits until δ shows a number different from `before`, and the three outputs are decoded images. */
async function nextProjection(page: Page, before: string): Promise<string> {
  await page.waitForFunction(
    (prev: string) => {
      const d =
        (globalThis as unknown as { document: { getElementById(id: string): { textContent: string } | null } }).document.getElementById(
          'draw-delta',
        )?.textContent ?? '';
      return d !== prev && d !== '–';
    },
    before,
    { timeout: 15_000 },
  );
  await waitForWidths(page, '#draw-strip img', 1, Infinity);
  return deltaText(page);
}

void test(
  'the draw pad: strokes by mouse, touch, pen and keys project as you draw; stale answers never win',
  { skip, timeout: 300_000 },
  async (t) => {
    const { url, context, page, problems } = await openSession(t, { hasTouch: true });
    await page.goto(url);

    await t.test('the page opens with a generated grid already shown', async () => {
      await page.locator('#generate-result').waitFor({ state: 'visible', timeout: 15_000 });
      await waitForWidths(page, '#generate-image', 1, Infinity);
      assert.match((await page.textContent('#generate-caption')) ?? '', /9 images · seed 0 · f applied 1×/);
    });

    const pad = page.locator('#draw-pad');
    let box = (await pad.boundingBox())!;
    let delta = '–';

    await t.test('a mouse stroke shows the input, f(x), f²(x) and δ; a second stroke changes them', async () => {
      await mouseStroke(page, box, [
        [0.5, 0.15],
        [0.5, 0.85],
      ]);
      delta = await nextProjection(page, delta);
      assert.match(delta, /^\d+\.\d{4}$/);
      for (const [w, h, src] of await naturalSizes(page, '#draw-strip img')) {
        assert.deepEqual([w, h], [SIDE, SIDE]);
        assert.match(src, /^blob:/);
      }
      const f1Before = await page.getAttribute('#draw-f1', 'src');
      await mouseStroke(page, box, [
        [0.2, 0.5],
        [0.8, 0.5],
      ]);
      delta = await nextProjection(page, delta);
      assert.notEqual(await page.getAttribute('#draw-f1', 'src'), f1Before);
    });

    await t.test('touch and pen strokes draw too', async () => {
      const cdp = await context.newCDPSession(page);
      const px = (fx: number, fy: number): { x: number; y: number } => ({ x: box.x + fx * box.width, y: box.y + fy * box.height });
      await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [px(0.2, 0.2)] });
      for (let i = 1; i <= 6; i++)
        await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: [px(0.2 + i * 0.1, 0.2 + i * 0.1)] });
      await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
      delta = await nextProjection(page, delta);
      const penAt = (type: 'mousePressed' | 'mouseMoved' | 'mouseReleased', fx: number, fy: number): Promise<unknown> =>
        cdp.send('Input.dispatchMouseEvent', {
          type,
          ...px(fx, fy),
          button: 'left',
          buttons: type === 'mouseReleased' ? 0 : 1,
          clickCount: 1,
          pointerType: 'pen',
        });
      await penAt('mousePressed', 0.8, 0.2);
      for (let i = 1; i <= 6; i++) await penAt('mouseMoved', 0.8 - i * 0.1, 0.2 + i * 0.1);
      await penAt('mouseReleased', 0.2, 0.8);
      delta = await nextProjection(page, delta);
    });

    await t.test('a stale answer never overwrites a newer one', async () => {
      // The first projection's answer is held back until the drawing has changed and the newer
      // answers are shown; then it is let through (unless the page aborted it) and must not win.
      const scores: (number | null)[] = [];
      const settled: boolean[] = [];
      let releaseFirst = (): void => undefined;
      const firstHeld = new Promise<void>((resolve) => {
        releaseFirst = resolve;
      });
      let firstDone: Promise<void> = Promise.resolve();
      await page.route(isProject, (route) => {
        const index = scores.length;
        scores.push(null);
        settled.push(false);
        const handled = (async () => {
          try {
            if (index === 0) await firstHeld;
            const response = await route.fetch();
            scores[index] = ((await response.json()) as { oodScore: number }).oodScore;
            await route.fulfill({ response });
          } catch {
            /* the page aborted this request: nothing to answer */
          }
          settled[index] = true;
        })();
        if (index === 0) firstDone = handled;
        return handled;
      });
      await page.click('#draw-clear');
      assert.equal(await deltaText(page), '–');
      await mouseStroke(page, box, [
        [0.3, 0.3],
        [0.7, 0.7],
      ]);
      const t0 = Date.now();
      while (scores.length < 1 && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 20));
      await mouseStroke(page, box, [
        [0.7, 0.3],
        [0.3, 0.7],
        [0.5, 0.9],
      ]);
      await nextProjection(page, '–');
      // Let every answer after the first settle (strokes on a slow machine may send several).
      let seen = -1;
      while (seen !== scores.length || settled.slice(1).includes(false)) {
        seen = scores.length;
        await new Promise((r) => setTimeout(r, 500));
      }
      const newest = scores.at(-1) ?? null;
      assert.ok(scores.length >= 2 && newest !== null, JSON.stringify(scores));
      assert.equal(await deltaText(page), newest.toFixed(4));
      releaseFirst();
      await firstDone;
      await new Promise((r) => setTimeout(r, 500));
      await page.unroute(isProject);
      assert.equal(await deltaText(page), newest.toFixed(4), `the held-back first answer was not shown: ${JSON.stringify(scores)}`);
      // If it was delivered (not aborted), it really was different from what is shown.
      if (scores[0] !== null) assert.notEqual(scores[0]!.toFixed(4), newest.toFixed(4));
    });

    await t.test('clear empties the outputs; add noise projects the noisy pad', async () => {
      await page.click('#draw-clear');
      assert.equal(await deltaText(page), '–');
      assert.equal(await page.getAttribute('#draw-f1', 'src'), null);
      await page.click('#draw-noise');
      delta = await nextProjection(page, '–');
    });

    await t.test('keyboard: the pad and its buttons are reachable with Tab and labelled; arrow keys draw', async () => {
      await page.click('#draw-clear');
      await page.locator('#draw-title').click(); // start tabbing from the section heading
      const order: string[] = [];
      for (let i = 0; i < 4; i++) {
        await page.keyboard.press('Tab');
        order.push(await page.evaluate<string>('document.activeElement.id'));
      }
      assert.deepEqual(order.slice(0, 3), ['draw-pad', 'draw-clear', 'draw-noise']);
      assert.equal(await pad.getAttribute('aria-label'), 'Drawing pad: draw a digit here');
      await pad.focus();
      for (const key of ['ArrowUp', 'ArrowUp', 'ArrowUp', 'ArrowRight', 'ArrowDown', 'ArrowDown']) await page.keyboard.press(key);
      delta = await nextProjection(page, '–');
    });

    await t.test('at 360 px wide nothing scrolls sideways and drawing still works', async () => {
      await page.setViewportSize({ width: 360, height: 800 });
      assert.ok((await page.evaluate<number>('document.documentElement.scrollWidth')) <= 360);
      await pad.scrollIntoViewIfNeeded();
      box = (await pad.boundingBox())!;
      assert.ok(box.x >= 0 && box.x + box.width <= 360, JSON.stringify(box));
      await page.click('#draw-clear');
      await mouseStroke(page, box, [
        [0.5, 0.1],
        [0.5, 0.9],
      ]);
      await nextProjection(page, '–');
    });

    assert.deepEqual(problems, [], 'no console errors or CSP violations');
  },
);

interface Post {
  path: string;
  query: URLSearchParams;
  body: string;
}

const postOf = (url: string, body: string | null): Post => {
  const parsed = new URL(url);
  return { path: parsed.pathname, query: parsed.searchParams, body: body ?? '' };
};

/** Every POST the page sends, in order. */
function recordPosts(page: Page): Post[] {
  const posts: Post[] = [];
  page.on('request', (req) => {
    if (req.method() === 'POST') posts.push(postOf(req.url(), req.postData()));
  });
  return posts;
}

/** The `model` a request named: the JSON field of /generate, the query parameter of /project. */
function modelOf(post: Post): string | null {
  if (post.path === '/generate') return (JSON.parse(post.body) as { model?: string }).model ?? null;
  return post.query.get('model');
}

const gridWidth = async (page: Page): Promise<number> => (await naturalSizes(page, '#generate-image'))[0]?.[0] ?? 0;

/** Waits until #draw-status reports a projection by `model` other than the one it showed as `before`. */
function waitForDrawStatus(page: Page, model: string, before: string | null): Promise<unknown> {
  return page.waitForFunction(
    ([prefix, old]) => {
      const text = (globalThis as unknown as Doc).document.getElementById('draw-status')?.textContent ?? '';
      return text.startsWith(prefix) && text !== old;
    },
    [`Projected by ${model} (`, before ?? ''] as const,
    { timeout: 15_000 },
  );
}

void test(
  'the model picker: lists the models, every request names the picked one, stale answers never win',
  { skip, timeout: 300_000 },
  async (t) => {
    const { url, context, page, problems } = await openSession(t);
    const posts = recordPosts(page);
    await page.goto(url);
    await page.locator('#generate-result').waitFor({ state: 'visible', timeout: 15_000 });
    await waitForWidths(page, '#generate-image', 1, Infinity);

    await t.test('the picker lists both models and starts on the first ready one, named in the status', async () => {
      assert.deepEqual(await page.locator('#model-select option').allTextContents(), ['tiny (v1)', 'tiny2 (v1)']);
      assert.equal(await page.inputValue('#model-select'), 'tiny');
      assert.equal(await page.textContent('#model-status'), 'Model ready: tiny — tiny tanh-scale test model.');
      assert.equal(await page.textContent('label[for="model-select"]'), 'Model');
      assert.deepEqual(posts.map(modelOf), ['tiny']);
      assert.ok((await gridWidth(page)) > 2 * SIDE);
    });

    /** The pad's box in the viewport now (clicking the upload form scrolls the page). */
    const padBox = async (): Promise<Box> => {
      const pad = page.locator('#draw-pad');
      await pad.scrollIntoViewIfNeeded();
      return (await pad.boundingBox())!;
    };
    const strip = (): Promise<[number, number, string][]> => naturalSizes(page, '#draw-strip img');

    await t.test('picking tiny2 regenerates the grid and re-projects the drawing, both with model=tiny2', async () => {
      await mouseStroke(page, await padBox(), [
        [0.5, 0.15],
        [0.5, 0.85],
      ]);
      await nextProjection(page, '–');
      assert.deepEqual((await strip()).map(([w, h]) => [w, h]).flat(), Array<number>(6).fill(SIDE));
      const before = posts.length;
      await page.selectOption('#model-select', 'tiny2');
      // 3×3 grid of 8×8 images (with padding) instead of 28×28 ones; the strip's images turn 8×8.
      await waitForWidths(page, '#generate-image', 3 * SIDE2, 4 * SIDE2);
      await waitForWidths(page, '#draw-strip img', SIDE2, SIDE2);
      await waitForDrawStatus(page, 'tiny2', null);
      const sent = posts.slice(before);
      assert.deepEqual(sent.map((p) => p.path).sort(), ['/generate', '/project']);
      assert.deepEqual(sent.map(modelOf), ['tiny2', 'tiny2']);
      assert.match((await page.textContent('#generate-caption')) ?? '', /9 images · seed 0 · f applied 1× · tiny2$/);
      await page.getByText('Model ready: tiny2 — tiny identity test model.').waitFor({ timeout: 5_000 });
    });

    await t.test('a new stroke and an upload are projected with tiny2 too', async () => {
      const before = posts.length;
      const statusBefore = await page.textContent('#draw-status');
      await mouseStroke(page, await padBox(), [
        [0.2, 0.5],
        [0.8, 0.5],
      ]);
      await waitForDrawStatus(page, 'tiny2', statusBefore);
      await page.setInputFiles('#proj-file', { name: 'gradient.png', mimeType: 'image/png', buffer: await gradientPng() });
      await page.click('#project-button');
      await page.locator('#project-result').waitFor({ state: 'visible', timeout: 15_000 });
      // The upload itself stays 28×28; the model's input, f and f² are 8×8.
      await waitForWidths(page, '#project-strip img', SIDE2, SIDE2, 1);
      const sent = posts.slice(before);
      assert.ok(sent.length >= 2 && sent.every((p) => p.path === '/project' && modelOf(p) === 'tiny2'), JSON.stringify(sent.map(modelOf)));
    });

    await t.test("a late answer for the previous model never replaces the new model's", async () => {
      // The drawing's tiny2 request is held back; picking tiny sends a newer one, whose 28×28 answer is
      // shown; then the held one is let through (unless the page aborted it) and must not win.
      let releaseHeld = (): void => undefined;
      const held = new Promise<void>((resolve) => {
        releaseHeld = resolve;
      });
      const seen: string[] = [];
      let heldDone: Promise<void> = Promise.resolve();
      await page.route(isProject, (route) => {
        const model = modelOf(postOf(route.request().url(), null)) ?? '';
        seen.push(model);
        const handled = (async () => {
          try {
            if (model === 'tiny2') await held;
            await route.continue();
          } catch {
            /* the page aborted this request: nothing to answer */
          }
        })();
        if (model === 'tiny2') heldDone = handled;
        return handled;
      });
      await mouseStroke(page, await padBox(), [
        [0.3, 0.3],
        [0.7, 0.7],
      ]);
      const t0 = Date.now();
      while (!seen.includes('tiny2') && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 20));
      await page.selectOption('#model-select', 'tiny');
      await waitForWidths(page, '#draw-strip img', SIDE, SIDE);
      releaseHeld();
      await heldDone;
      await new Promise((r) => setTimeout(r, 500));
      await page.unroute(isProject);
      assert.deepEqual(seen.slice(0, 1), ['tiny2']);
      assert.deepEqual(
        (await strip()).map(([w]) => w),
        [SIDE, SIDE, SIDE],
        `the held tiny2 answer was not shown: ${JSON.stringify(seen)}`,
      );
      assert.match((await page.textContent('#draw-status')) ?? '', /^Projected by tiny /);
    });

    await t.test('the picker is reachable with Tab and fits a 360 px screen', async () => {
      await page.setViewportSize({ width: 360, height: 800 });
      await page.evaluate('window.scrollTo(0, 0); document.activeElement?.blur()');
      await page.locator('h1').click();
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate<string>('document.activeElement.id'), 'model-select');
      assert.ok((await page.evaluate<number>('document.documentElement.scrollWidth')) <= 360);
      const select = (await page.locator('#model-select').boundingBox())!;
      assert.ok(select.x >= 0 && select.x + select.width <= 360, JSON.stringify(select));
    });

    assert.deepEqual(problems, [], 'no console errors or CSP violations');

    /** A second page of the same browser whose repository index is answered by `fulfil`. */
    const withIndex = async (fulfil: { status: number; body: unknown }): Promise<{ page: Page; problems: string[] }> => {
      const other: string[] = [];
      const p = await watchedPage(context, other);
      await p.route('**/v2/repository/index', (route) =>
        route.fulfill({ status: fulfil.status, contentType: 'application/json', json: fulfil.body }),
      );
      await p.goto(url);
      return { page: p, problems: other };
    };

    await t.test('an index refused with 401 (API keys): no picker, requests name no model, the server error is shown', async () => {
      const { page: p, problems: other } = await withIndex({
        status: 401,
        body: { error: { code: 'unauthorized', message: 'API key required' } },
      });
      const sent = recordPosts(p);
      await p.locator('#generate-error').waitFor({ state: 'visible', timeout: 15_000 });
      // Two models and no mnist: the server has no default, so a request without `model` is a 400.
      assert.match((await p.textContent('#generate-error')) ?? '', /model_required/);
      assert.equal(await p.isHidden('#model-picker'), true);
      assert.equal(await p.textContent('#model-status'), 'Model ready.');
      assert.deepEqual(sent.map(modelOf), [null]);
      assert.deepEqual(
        other.filter((m) => !/\b40[01]\b/.test(m)),
        [],
        'only the refused index and the 400 are logged',
      );
      await p.close();
    });

    await t.test('one model only: no picker, the status names it and requests use it', async () => {
      const { page: p, problems: other } = await withIndex({
        status: 200,
        body: [{ name: 'tiny2', version: '1', state: 'READY', reason: '' }],
      });
      const sent = recordPosts(p);
      await p.locator('#generate-result').waitFor({ state: 'visible', timeout: 15_000 });
      assert.equal(await p.isHidden('#model-picker'), true);
      await p.getByText('Model ready: tiny2 — tiny identity test model.').waitFor({ timeout: 5_000 });
      assert.deepEqual(sent.map(modelOf), ['tiny2']);
      assert.deepEqual(other, []);
      await p.close();
    });

    await t.test('mnist is picked when listed; an unavailable model is shown disabled with its reason', async () => {
      const rows = [
        { name: 'alpha', version: '1', state: 'READY', reason: '' },
        { name: 'broken', version: '', state: 'UNAVAILABLE', reason: 'model.onnx is missing' },
        { name: 'mnist', version: '3', state: 'READY', reason: '' },
      ];
      const { page: p } = await withIndex({ status: 200, body: rows });
      await p.locator('#model-picker').waitFor({ state: 'visible', timeout: 10_000 });
      assert.equal(await p.inputValue('#model-select'), 'mnist');
      const broken = p.locator('#model-select option[value="broken"]');
      assert.equal(await broken.isDisabled(), true);
      assert.equal(await broken.getAttribute('title'), 'model.onnx is missing');
      assert.equal(await broken.textContent(), 'broken — unavailable: model.onnx is missing');
      // This server has no mnist: the page's request names it and the server's 404 is shown.
      await p.locator('#generate-error').waitFor({ state: 'visible', timeout: 15_000 });
      assert.match((await p.textContent('#generate-error')) ?? '', /model_not_found/);
      await p.close();
    });
  },
);
