// SPDX-License-Identifier: MIT
// The web page's model picker in headless Chromium against the real app serving two models that
// differ in size and behaviour (`tiny`, 28×28 tanh, and `tiny2`, 8×8 identity): it lists them, every
// request names the picked one, and a late answer for the previous model never wins. Setup:
// web-page-session.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import {
  SIDE,
  SIDE2,
  gradientPng,
  isProject,
  mouseStroke,
  naturalSizes,
  nextProjection,
  openSession,
  skip,
  waitForWidths,
  watchedPage,
  type Box,
  type Doc,
} from './web-page-session.ts';

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

    /**
     * A second page of the same browser whose repository index is answered by `fulfil`. Its POSTs
     * are recorded from before navigation: the page's first /generate can leave before `goto`
     * returns, and a recorder attached afterwards would miss it.
     */
    const withIndex = async (fulfil: { status: number; body: unknown }): Promise<{ page: Page; problems: string[]; sent: Post[] }> => {
      const other: string[] = [];
      const p = await watchedPage(context, other);
      const sent = recordPosts(p);
      await p.route('**/v2/repository/index', (route) =>
        route.fulfill({ status: fulfil.status, contentType: 'application/json', json: fulfil.body }),
      );
      await p.goto(url);
      return { page: p, problems: other, sent };
    };

    await t.test('an index refused with 401 (API keys): no picker, requests name no model, the server error is shown', async () => {
      const {
        page: p,
        problems: other,
        sent,
      } = await withIndex({
        status: 401,
        body: { error: { code: 'unauthorized', message: 'API key required' } },
      });
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
      const {
        page: p,
        problems: other,
        sent,
      } = await withIndex({
        status: 200,
        body: [{ name: 'tiny2', version: '1', state: 'READY', reason: '' }],
      });
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
