// SPDX-License-Identifier: MIT
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MNIST_CONVENTIONS, validateModelCard } from '../../../common/model-card.ts';
import { resolveConfig } from '../../../training/config.ts';
import { conventionsOf } from '../../../training/trainer/export.ts';
import { tinyModelCard } from '../../support/tiny-model.ts';

void test('export declares input conventions for MNIST-like data at 1×28×28 only', () => {
  assert.deepEqual(conventionsOf(resolveConfig({ data: { kind: 'mnist' } }), [1, 28, 28]), { inputConventions: MNIST_CONVENTIONS });
  assert.deepEqual(conventionsOf(resolveConfig({ data: { kind: 'fashion-mnist' } }), [1, 28, 28]).inputConventions?.centring, 'box');
  assert.deepEqual(conventionsOf(resolveConfig({ data: { kind: 'mnist' } }), [1, 32, 32]), {}, 'resized MNIST has other proportions');
  assert.deepEqual(conventionsOf(resolveConfig({ data: { kind: 'folder', path: '/x' } }), [1, 28, 28]), {});
});

void test('the card schema accepts conventions and rejects a content box larger than the image', () => {
  const card = tinyModelCard({ channels: 1, height: 28, width: 28, conventions: MNIST_CONVENTIONS });
  assert.deepEqual(validateModelCard(card).inputConventions, MNIST_CONVENTIONS);
  const tooBig = { ...card, inputConventions: { ...MNIST_CONVENTIONS, contentBox: { width: 29, height: 20 } } };
  assert.throws(() => validateModelCard(tooBig), /contentBox: 29×20 is larger than the 28×28 image/);
  const badPolarity = { ...card, inputConventions: { ...MNIST_CONVENTIONS, polarity: 'dark' } };
  assert.throws(() => validateModelCard(badPolarity), /inputConventions\/polarity/);
  const badContent = { ...card, inputConventions: { ...MNIST_CONVENTIONS, content: 'glyphs' } };
  assert.throws(() => validateModelCard(badContent), /inputConventions\/content/);
  const { polarity, contentBox, centring } = MNIST_CONVENTIONS;
  const withoutContent = { ...card, inputConventions: { polarity, contentBox, centring } };
  assert.equal(validateModelCard(withoutContent).inputConventions?.content, undefined, 'content is optional');
});
