// SPDX-License-Identifier: MIT
// The model picker and the model status line. The server may serve several models
// (GET /v2/repository/index); every request the page makes names the picked one. When the index is
// refused (401 with API keys configured) or unreachable there is no picker and requests name no
// model, so the server's default answers, as before the repository existed.

import { byId } from './ui.js';

/** The picked model's name, or null when requests should name none. */
let selected = null;
/** /readyz's verdict, kept so a model change can restate it. */
let readiness = { ok: false, text: 'Checking the model…' };
const descriptions = new Map();

export const selectedModel = () => selected;

/** Adds the picked model to a /generate JSON body (nothing when none is picked). */
export function withModel(body) {
  return selected === null ? body : { ...body, model: selected };
}

/**
 * The /project URL for `model` (default: the picked one). The model travels in the query, not as a
 * form field: the server checks it before reading the upload, and with several models and no default
 * it refuses a request whose query names none, whatever the form holds.
 */
export function projectUrl(model = selected) {
  return model === null ? '/project' : `/project?model=${encodeURIComponent(model)}`;
}

async function checkReady() {
  try {
    const res = await fetch('/readyz', { headers: { accept: 'application/json' } });
    readiness = res.ok
      ? { ok: true, text: 'Model ready.' }
      : { ok: false, text: `Model not ready (HTTP ${res.status}); requests may be refused.` };
  } catch {
    readiness = { ok: false, text: 'Server unreachable.' };
  }
}

/** The index rows, or null when there is none to show (refused, unreachable, or not the expected shape). */
async function fetchIndex() {
  try {
    const res = await fetch('/v2/repository/index', { headers: { accept: 'application/json' } });
    if (!res.ok) return null;
    const rows = await res.json();
    if (!Array.isArray(rows)) return null;
    return rows.filter((r) => r && typeof r.name === 'string' && typeof r.state === 'string');
  } catch {
    return null;
  }
}

/** The card's description from the model metadata, fetched once per model; '' when unavailable. */
async function describe(name) {
  if (!descriptions.has(name)) {
    descriptions.set(
      name,
      fetch(`/v2/models/${encodeURIComponent(name)}`, { headers: { accept: 'application/json' } })
        .then((res) => (res.ok ? res.json() : null))
        .then((meta) => (typeof meta?.parameters?.description === 'string' ? meta.parameters.description : ''))
        .catch(() => ''),
    );
  }
  return descriptions.get(name);
}

function showStatus(description = '') {
  const status = byId('model-status');
  if (selected === null || !readiness.ok) {
    status.textContent = readiness.text;
    return;
  }
  status.textContent = `Model ready: ${selected}${description === '' ? '' : ` — ${description}`}.`;
}

/** Names the picked model now and adds its description when the metadata arrives (if still picked). */
function announce() {
  const name = selected;
  showStatus();
  if (name === null) return;
  void describe(name).then((description) => {
    if (selected === name) showStatus(description);
  });
}

function option(row) {
  const el = document.createElement('option');
  el.value = row.name;
  const version = row.version ? ` (v${row.version})` : '';
  if (row.state === 'READY') {
    el.textContent = `${row.name}${version}`;
  } else {
    // Listed so the user sees it exists, but not selectable: requests for it would answer 503.
    el.disabled = true;
    el.textContent = `${row.name}${version} — unavailable`;
    el.title = row.reason || 'unavailable';
    if (row.reason) el.textContent += `: ${row.reason}`;
  }
  return el;
}

/**
 * Checks readiness, fills the picker and picks the default (mnist when ready, else the first ready
 * model). `onChange` runs after the user picks another model. Resolves to whether the server is ready.
 */
export async function startModels(onChange) {
  const [, rows] = await Promise.all([checkReady(), fetchIndex()]);
  const picker = byId('model-picker');
  const select = /** @type {HTMLSelectElement} */ (byId('model-select'));
  const ready = (rows ?? []).filter((r) => r.state === 'READY');
  selected = ready.find((r) => r.name === 'mnist')?.name ?? ready[0]?.name ?? null;
  // A one-model server needs no choice: the status line names the model instead.
  if (rows !== null && rows.length > 1) {
    select.replaceChildren(...rows.map(option));
    if (selected !== null) select.value = selected;
    picker.hidden = false;
    select.addEventListener('change', () => {
      selected = select.value;
      announce();
      onChange(selected);
    });
  }
  announce();
  return readiness.ok;
}
