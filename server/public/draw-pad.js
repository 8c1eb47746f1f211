// SPDX-License-Identifier: MIT
// The draw pad: pointer strokes (mouse, pen, touch) or arrow keys draw white on black, like the
// training digits; after each change (debounced) the drawing is sent to POST /project and the
// normalised input, f(x), f²(x) and δ(x) are shown. A newer drawing aborts the request in flight,
// and an answer is shown only if it belongs to the latest request, so a stale one never wins (also
// across a model change: reproject() is just another, newer request, with the newly picked model).
// The strip is aria-busy from the first change until the latest request has settled, so assistive
// technology (and the browser tests) can tell a final answer from an intermediate one.

import { base64Png, byId, describeError, setError, showBlob } from './ui.js';
import { projectUrl, selectedModel } from './models.js';

const DEBOUNCE_MS = 150;
const LINE_WIDTH = 22; // on the 280 px buffer: about 2 px at 28×28, the stroke width of MNIST
const KEY_STEP = 14;

/** mulberry32: a small seeded generator, so "add noise" is reproducible from its counter. */
function seededRandom(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function startDrawPad() {
  const canvas = /** @type {HTMLCanvasElement} */ (byId('draw-pad'));
  const ctx = canvas.getContext('2d');
  const status = byId('draw-status');
  const strip = byId('draw-strip');
  const setBusy = (busy) => strip.setAttribute('aria-busy', String(busy));
  const error = byId('draw-error');
  let timer = null;
  let inFlight = null;
  let latest = 0;
  let noiseSeed = 0;
  let drawn = false; // something is on the pad since the last clear
  let last = null;
  let keyPen = { x: canvas.width / 2, y: canvas.height / 2 };

  const clearCanvas = () => {
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
  };
  const pen = () => {
    ctx.strokeStyle = '#fff';
    ctx.fillStyle = '#fff';
    ctx.lineWidth = LINE_WIDTH;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
  };
  /** Pointer position in canvas pixels (the element may be scaled down on narrow screens). */
  const at = (event) => {
    const rect = canvas.getBoundingClientRect();
    return { x: (event.clientX - rect.left) * (canvas.width / rect.width), y: (event.clientY - rect.top) * (canvas.height / rect.height) };
  };
  const segment = (from, to) => {
    pen();
    ctx.beginPath();
    ctx.moveTo(from.x, from.y);
    ctx.lineTo(to.x, to.y);
    ctx.stroke();
  };

  async function project() {
    const id = ++latest;
    inFlight?.abort();
    const controller = new AbortController();
    inFlight = controller;
    // Read now, with the request id: the model this request is for, whatever is picked later.
    const model = selectedModel();
    status.textContent = 'Projecting…';
    try {
      const png = await new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
      const form = new FormData();
      form.append('image', png, 'drawing.png');
      form.append('steps', '2');
      const res = await fetch(projectUrl(model), {
        method: 'POST',
        headers: { accept: 'application/json' },
        body: form,
        signal: controller.signal,
      });
      if (id !== latest) return;
      if (!res.ok) {
        setError(error, await describeError(res));
        status.textContent = 'Projection failed.';
        return;
      }
      const body = await res.json();
      if (id !== latest) return; // a newer drawing was sent while this answer was read
      setError(error, '');
      showBlob(byId('draw-input'), base64Png(body.input));
      showBlob(byId('draw-f1'), base64Png(body.stepImages[0]));
      showBlob(byId('draw-f2'), base64Png(body.stepImages[1]));
      byId('draw-delta').textContent = body.oodScore.toFixed(4);
      status.textContent = `Projected${model === null ? '' : ` by ${model}`} (request ${id}).`;
    } catch (err) {
      if (err.name === 'AbortError' || id !== latest) return;
      setError(error, `request failed: ${err.message}`);
      status.textContent = 'Projection failed.';
    } finally {
      if (inFlight === controller) inFlight = null;
      // Settled only when this was the latest request and no newer change waits in the debounce.
      if (id === latest && timer === null) setBusy(false);
    }
  }

  const changed = () => {
    drawn = true;
    setBusy(true);
    clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      void project();
    }, DEBOUNCE_MS);
  };

  canvas.addEventListener('pointerdown', (event) => {
    canvas.setPointerCapture(event.pointerId);
    last = at(event);
    segment(last, last);
    changed();
  });
  canvas.addEventListener('pointermove', (event) => {
    if (last === null) return;
    // Coalesced events keep fast pen and touch strokes smooth.
    for (const e of event.getCoalescedEvents?.() ?? [event]) {
      const next = at(e);
      segment(last, next);
      last = next;
    }
    changed();
  });
  const end = () => {
    last = null;
  };
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointercancel', end);

  canvas.addEventListener('keydown', (event) => {
    const moves = { ArrowUp: [0, -1], ArrowDown: [0, 1], ArrowLeft: [-1, 0], ArrowRight: [1, 0] };
    const move = moves[event.key];
    if (move === undefined) return;
    event.preventDefault();
    const next = {
      x: Math.min(canvas.width, Math.max(0, keyPen.x + move[0] * KEY_STEP)),
      y: Math.min(canvas.height, Math.max(0, keyPen.y + move[1] * KEY_STEP)),
    };
    segment(keyPen, next);
    keyPen = next;
    changed();
  });

  byId('draw-clear').addEventListener('click', () => {
    clearTimeout(timer);
    timer = null;
    inFlight?.abort();
    latest++;
    drawn = false;
    setBusy(false);
    clearCanvas();
    keyPen = { x: canvas.width / 2, y: canvas.height / 2 };
    for (const id of ['draw-input', 'draw-f1', 'draw-f2']) byId(id).removeAttribute('src');
    byId('draw-delta').textContent = '–';
    status.textContent = 'Draw something.';
  });

  byId('draw-noise').addEventListener('click', () => {
    // Grey speckles over the whole pad: f should remove them (compare f(x) with the input).
    const random = seededRandom(++noiseSeed);
    for (let i = 0; i < 400; i++) {
      const v = Math.floor(random() * 256);
      ctx.fillStyle = `rgb(${v},${v},${v})`;
      ctx.fillRect(Math.floor(random() * canvas.width), Math.floor(random() * canvas.height), 8, 8);
    }
    changed();
  });

  clearCanvas();
  return {
    /** Projects the drawing again now (another model was picked); nothing to do on an empty pad. */
    reproject() {
      if (!drawn) return;
      clearTimeout(timer);
      timer = null;
      setBusy(true);
      void project();
    },
  };
}
