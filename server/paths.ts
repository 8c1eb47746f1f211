// SPDX-License-Identifier: MIT
/** Files the server ships beside its code: found from server/ (tsx) and from dist/server/ (tsc). */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** `relative` is from the repository root, e.g. 'openapi.yaml' or 'server/public'. */
export function repoFile(relative: string): string {
  const candidates = [`../${relative}`, `../../${relative}`].map((rel) => fileURLToPath(new URL(rel, import.meta.url)));
  const found = candidates.find((path) => existsSync(path));
  return found ?? candidates[0]!;
}
