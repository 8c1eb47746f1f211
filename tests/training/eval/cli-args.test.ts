// SPDX-License-Identifier: MIT
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fractionOption } from '../../../training/eval/cli-args.ts';

void test('fractionOption takes 0, 1 and what lies between; anything else is a ConfigError naming the flag', () => {
  assert.equal(fractionOption('bn-blend', undefined), undefined);
  assert.equal(fractionOption('bn-blend', '0'), 0, '0 is a share (plain BatchNorm), not a missing value');
  assert.equal(fractionOption('bn-blend', '0.3'), 0.3);
  assert.equal(fractionOption('clean-share', '1'), 1);
  for (const bad of ['', ' ', '-0.1', '1.01', 'NaN', 'half'])
    assert.throws(() => fractionOption('clean-share', bad), new RegExp(`--clean-share must be a number in \\[0, 1\\], got "${bad}"`));
});
