// SPDX-License-Identifier: MIT
// The page's behaviour (no build step; CSP script-src 'self', so no inline scripts). Images are
// shown through blob: URLs, revoked when replaced. Request and response shapes: /openapi.yaml.

import { base64Png, byId, describeError, isAbort, liveUrls, newestOnly, setError, showBlob } from './ui.js';
import { startDrawPad } from './draw-pad.js';
import { projectUrl, selectedModel, startModels, withModel } from './models.js';

/** Requests running per button: a model change can start one while another is still in flight. */
const running = new WeakMap();

/** Runs `work` with the button disabled and the section marked busy until every run has ended. */
async function busy(button, work) {
  const section = button.closest('section');
  running.set(button, (running.get(button) ?? 0) + 1);
  button.disabled = true;
  section.setAttribute('aria-busy', 'true');
  try {
    await work();
  } finally {
    const left = running.get(button) - 1;
    running.set(button, left);
    if (left === 0) {
      button.disabled = false;
      section.removeAttribute('aria-busy');
    }
  }
}

function bindRangeOutput(rangeId, outputId) {
  const range = /** @type {HTMLInputElement} */ (byId(rangeId));
  const output = byId(outputId);
  const update = () => {
    output.textContent = range.value;
  };
  range.addEventListener('input', update);
  update();
}

const nextGenerate = newestOnly();
const nextProject = newestOnly();

async function generate(event) {
  event?.preventDefault();
  const seed = Number(/** @type {HTMLInputElement} */ (byId('gen-seed')).value);
  const count = Number(/** @type {HTMLSelectElement} */ (byId('gen-count')).value);
  const steps = Number(/** @type {HTMLInputElement} */ (byId('gen-steps')).value);
  const error = byId('generate-error');
  const model = selectedModel();
  // A newer grid (other settings or another model) aborts this one; a late answer is dropped.
  const request = nextGenerate();
  await busy(byId('generate-button'), async () => {
    setError(error, '');
    // Hidden until the new grid arrives, so the figure never pairs an old image with new settings.
    byId('generate-result').hidden = true;
    const res = await fetch('/generate', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'image/png' },
      body: JSON.stringify(withModel({ count, steps, seed })),
      signal: request.signal,
    });
    if (!res.ok) {
      const message = await describeError(res);
      if (request.isNewest()) setError(error, message);
      return;
    }
    const blob = await res.blob();
    if (!request.isNewest()) return;
    const img = /** @type {HTMLImageElement} */ (byId('generate-image'));
    showBlob(img, blob);
    const usedSeed = res.headers.get('x-seed') ?? String(seed);
    const what = count === 1 ? 'One image' : `${count} images`;
    const by = model === null ? '' : ` by model ${model}`;
    img.alt = `${what} generated${by} from seed ${usedSeed} with ${steps} application${steps === 1 ? '' : 's'} of f`;
    byId('generate-caption').textContent = `${what} · seed ${usedSeed} · f applied ${steps}×${model === null ? '' : ` · ${model}`}`;
    byId('generate-result').hidden = false;
  }).catch((err) => {
    if (!isAbort(err) && request.isNewest()) setError(error, `request failed: ${err.message}`);
  });
}

function randomSeed() {
  const [value] = crypto.getRandomValues(new Uint32Array(1));
  /** @type {HTMLInputElement} */ (byId('gen-seed')).value = String(value);
}

/** One captioned image in the projection strip. */
function stripFigure(caption, blob, alt) {
  const figure = document.createElement('figure');
  const img = document.createElement('img');
  img.alt = alt;
  img.dataset.role = caption;
  showBlob(img, blob);
  const label = document.createElement('figcaption');
  label.textContent = caption;
  figure.append(img, label);
  return figure;
}

function renderProjection(file, body) {
  const strip = byId('project-strip');
  for (const img of strip.querySelectorAll('img')) {
    URL.revokeObjectURL(liveUrls.get(img));
    liveUrls.delete(img);
  }
  const corrupted = body.corruption ? `corrupted (${body.corruption.kind})` : 'model input';
  const figures = [
    stripFigure('upload', file, 'The uploaded image'),
    stripFigure(
      corrupted,
      base64Png(body.input),
      body.corruption ? `The input after ${body.corruption.kind} corruption` : 'The input resized to the model',
    ),
  ];
  body.stepImages.forEach((b64, i) => {
    const name = i === 0 ? 'f(x)' : i === 1 ? 'f²(x)' : `f^${i + 1}(x)`;
    figures.push(stripFigure(name, base64Png(b64), `${name}: the model applied ${i + 1} time${i === 0 ? '' : 's'}`));
  });
  strip.replaceChildren(...figures);
  byId('project-delta').textContent = body.oodScore.toFixed(4);
  byId('project-result').hidden = false;
}

async function project(event) {
  event?.preventDefault();
  const file = /** @type {HTMLInputElement} */ (byId('proj-file')).files?.[0];
  const error = byId('project-error');
  if (file === undefined) {
    setError(error, 'Choose an image first.');
    return;
  }
  // Parameters travel as form fields next to the file, as an HTML form or curl -F sends them.
  const form = new FormData();
  form.append('image', file);
  form.append('steps', /** @type {HTMLInputElement} */ (byId('proj-steps')).value);
  const corrupt = /** @type {HTMLSelectElement} */ (byId('proj-corrupt')).value;
  if (corrupt !== '') form.append('corrupt', corrupt);
  const url = projectUrl();
  const request = nextProject();
  await busy(byId('project-button'), async () => {
    setError(error, '');
    const res = await fetch(url, { method: 'POST', headers: { accept: 'application/json' }, body: form, signal: request.signal });
    if (!res.ok) {
      const message = await describeError(res);
      if (request.isNewest()) setError(error, message);
      return;
    }
    const body = await res.json();
    if (request.isNewest()) renderProjection(file, body);
  }).catch((err) => {
    if (!isAbort(err) && request.isNewest()) setError(error, `request failed: ${err.message}`);
  });
}

/** Another model was picked: everything shown is redone with it. */
function modelChanged(drawPad) {
  void generate();
  drawPad.reproject();
  // An upload already projected is projected again, so the strip never shows the old model's answer.
  const file = /** @type {HTMLInputElement} */ (byId('proj-file')).files?.[0];
  if (file !== undefined && !byId('project-result').hidden) void project();
}

bindRangeOutput('gen-steps', 'gen-steps-value');
bindRangeOutput('proj-steps', 'proj-steps-value');
byId('gen-random').addEventListener('click', randomSeed);
byId('generate-form').addEventListener('submit', generate);
byId('project-form').addEventListener('submit', project);
const drawPad = startDrawPad();
// The page opens with a grid already generated from the form's defaults, by the picked model; a
// drawing made before the picker was filled is projected again with that model.
void startModels(() => modelChanged(drawPad)).then((ready) => {
  if (!ready) return;
  void generate();
  drawPad.reproject();
});
