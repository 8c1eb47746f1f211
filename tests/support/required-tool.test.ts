// SPDX-License-Identifier: MIT
/** Missing tools skip with a reason outside CI and fail under CI=true. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { skipUnlessAvailable } from './required-tool.ts';

function withCi<T>(value: string | undefined, fn: () => T): T {
  const saved = process.env.CI;
  if (value === undefined) delete process.env.CI;
  else process.env.CI = value;
  try {
    return fn();
  } finally {
    if (saved === undefined) delete process.env.CI;
    else process.env.CI = saved;
  }
}

void test('a present tool never skips', () => {
  assert.equal(
    withCi(undefined, () => skipUnlessAvailable(null)),
    false,
  );
  assert.equal(
    withCi('true', () => skipUnlessAvailable(null)),
    false,
  );
});

void test('outside CI a missing tool skips and says why; under CI=true it throws', () => {
  assert.match(String(withCi(undefined, () => skipUnlessAvailable('curl is not installed'))), /curl is not installed/);
  assert.throws(() => withCi('true', () => skipUnlessAvailable('curl is not installed')), /CI=true but curl is not installed/);
});
