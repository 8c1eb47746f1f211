// SPDX-License-Identifier: MIT
// The web page in headless Chromium against the real app (real worker pool, tiny real ONNX models,
// the app's own CSP): generate renders a grid, projecting an upload renders f, f² and δ, the draw pad
// projects real pointer, touch, pen and key strokes as you draw, and the browser reports no errors
// (a CSP violation or script error shows up as a console error). Setup: web-page-session.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  SIDE,
  deltaText,
  gradientPng,
  isProject,
  mouseStroke,
  naturalSizes,
  nextProjection,
  openSession,
  skip,
  waitForWidths,
} from './web-page-session.ts';

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
      // A slow stroke: the pause mid-stroke outlasts the debounce, so an intermediate drawing is
      // projected first. The pad counts as settled only once the finished stroke's answer is shown.
      await page.mouse.move(box.x + 0.2 * box.width, box.y + 0.5 * box.height);
      await page.mouse.down();
      await page.mouse.move(box.x + 0.5 * box.width, box.y + 0.5 * box.height, { steps: 3 });
      await new Promise((r) => setTimeout(r, 600));
      await page.mouse.move(box.x + 0.8 * box.width, box.y + 0.5 * box.height, { steps: 3 });
      await page.mouse.up();
      delta = await nextProjection(page, delta);
      const f1Settled = await page.getAttribute('#draw-f1', 'src');
      assert.notEqual(f1Settled, f1Before);
      await new Promise((r) => setTimeout(r, 600));
      assert.equal(await page.getAttribute('#draw-f1', 'src'), f1Settled, 'an answer arrived after the pad said it had settled');
      assert.equal(await deltaText(page), delta);
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
