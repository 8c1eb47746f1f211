// SPDX-License-Identifier: MIT
/** The one concatenation of Float32Arrays (batches laid end to end, rows of a border, …). */
export function concatFloat32(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
