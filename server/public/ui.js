// SPDX-License-Identifier: MIT
// Helpers the page's modules share: element lookup, blob: URLs for images, the error contract.

export const byId = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
export const liveUrls = new Map();

/** Shows `blob` in `img`, releasing the blob: URL the same slot held before. */
export function showBlob(img, blob) {
  const previous = liveUrls.get(img);
  if (previous !== undefined) URL.revokeObjectURL(previous);
  const url = URL.createObjectURL(blob);
  liveUrls.set(img, url);
  img.src = url;
}

export function base64Png(b64) {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  return new Blob([bytes], { type: 'image/png' });
}

/** The server's error contract: {"error": {"code", "message"}, "requestId"}. */
export async function describeError(res) {
  try {
    const body = await res.json();
    if (body && body.error && typeof body.error.message === 'string') {
      return `${body.error.message} (${res.status} ${body.error.code})`;
    }
  } catch {
    /* not JSON */
  }
  return `request failed with HTTP ${res.status}`;
}

export function setError(el, text) {
  el.textContent = text;
  el.hidden = text === '';
}

/**
 * Keeps only the newest of overlapping requests of one kind: each call aborts the previous request
 * and returns the new one's signal and a check that it is still the newest, so an answer that
 * arrives late (say, for the model picked before) never replaces a newer one.
 */
export function newestOnly() {
  let current = null;
  return () => {
    current?.abort();
    const controller = new AbortController();
    current = controller;
    return { signal: controller.signal, isNewest: () => current === controller };
  };
}

/** True for the rejection of a fetch its page aborted on purpose (not an error to show). */
export const isAbort = (err) => err?.name === 'AbortError';
