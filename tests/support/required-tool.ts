// SPDX-License-Identifier: MIT
/**
 * The one rule for tests that need a tool from outside npm (Chromium, Debian's python3-onnx, curl,
 * root and setpriv): outside CI a missing tool skips the test and says why; under `CI=true` it
 * fails the test file, because .ci/run installs every such tool and CI must end with 0 skipped.
 */

/** Whether this run is CI (`.ci/run` sets CI=true; hosted CI services set it too). */
export const inCi = (): boolean => process.env.CI === 'true' || process.env.CI === '1';

/**
 * A node:test `skip` option: false when `missing` is null, else the reason (outside CI). Under CI
 * it throws instead, which fails the file with the reason rather than skipping silently.
 */
export function skipUnlessAvailable(missing: string | null | false): string | false {
  if (missing === null || missing === false) return false;
  if (inCi()) throw new Error(`CI=true but ${missing}: .ci/run must install it (no test may be skipped in CI)`);
  return `${missing} (CI installs it; skipped outside CI)`;
}
