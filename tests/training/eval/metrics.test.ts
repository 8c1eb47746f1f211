// SPDX-License-Identifier: MIT
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  accuracy,
  classHistogram,
  classLosses,
  meanPsnr,
  meanRms,
  pixelErrors,
  PSNR_CAP_DB,
  topClass,
} from '../../../training/eval/metrics.ts';

void test('PSNR of a hand case: an error of 0.2 everywhere gives 10·log10(4/0.04) = 20 dB', () => {
  const clean = new Float32Array([0, 0.5, -1, 1]);
  const noisy = clean.map((v) => v + 0.2);
  assert.ok(Math.abs(meanPsnr(noisy, clean, 4) - 20) < 1e-5);
  // two images, errors 0.2 and 0.02: the mean of 20 dB and 40 dB
  const two = new Float32Array([...noisy, ...clean.map((v) => v + 0.02)]);
  assert.ok(Math.abs(meanPsnr(two, new Float32Array([...clean, ...clean]), 4) - 30) < 1e-4);
  assert.equal(meanPsnr(clean, clean, 4), PSNR_CAP_DB);
});

void test('pixel errors and per-image RMS', () => {
  const a = new Float32Array([1, -1, 0, 0]);
  const b = new Float32Array([0, 0, 0, 0]);
  assert.deepEqual(pixelErrors(a, b), { l1: 0.5, mse: 0.5 });
  // image 1 RMS = 1, image 2 RMS = 0
  assert.equal(meanRms(a, b, 2), 0.5);
  assert.throws(() => meanRms(a, new Float32Array(3), 2), RangeError);
});

void test('class histogram counts argmax classes, coverage at 2 %, and mean softmax confidence', () => {
  const classes = 3;
  // 60 rows: 40 of class 0 (confident), 19 of class 1, 1 of class 2 (1.7 % < 2 %)
  const rows: number[] = [];
  for (let r = 0; r < 40; r++) rows.push(10, 0, 0);
  for (let r = 0; r < 19; r++) rows.push(0, 0.5, 0);
  rows.push(0, 0, 0.1);
  const h = classHistogram(Float32Array.from(rows), classes);
  assert.deepEqual(h.counts, [40, 19, 1]);
  assert.equal(h.coveredClasses, 2);
  const p0 = 1 / (1 + 2 * Math.exp(-10));
  const p1 = Math.exp(0.5) / (Math.exp(0.5) + 2);
  const p2 = Math.exp(0.1) / (Math.exp(0.1) + 2);
  assert.ok(Math.abs(h.meanConfidence - (40 * p0 + 19 * p1 + p2) / 60) < 1e-6);
  assert.ok(Math.abs(h.fractions.reduce((s, f) => s + f, 0) - 1) < 1e-12);
});

void test('topClass is stable for huge logits, and accuracy compares argmax with labels', () => {
  const t = topClass(new Float32Array([1000, 999, -1000]));
  assert.equal(t.index, 0);
  assert.ok(Math.abs(t.probability - 1 / (1 + Math.exp(-1))) < 1e-6);
  assert.equal(accuracy(new Float32Array([1, 0, 0, 1, 1, 0]), [0, 1, 1], 2), 2 / 3);
});

void test('classLosses counts digits read right before f and wrong after it, by (true → after), most frequent first', () => {
  const onehot = (classes: number[]): Float32Array => {
    const out = new Float32Array(classes.length * 3);
    classes.forEach((c, r) => (out[r * 3 + c] = 5));
    return out;
  };
  const labels = [0, 0, 0, 1, 1, 2, 2];
  const before = onehot([0, 0, 1, 1, 1, 2, 2]); // row 2 is already wrong before f: never a loss
  const after = onehot([1, 1, 2, 0, 1, 0, 1]);
  assert.deepEqual(classLosses(before, after, labels, 3, 5), [
    { label: 0, to: 1, count: 2 },
    { label: 1, to: 0, count: 1 },
    { label: 2, to: 0, count: 1 },
    { label: 2, to: 1, count: 1 },
  ]);
  assert.deepEqual(classLosses(before, after, labels, 3, 1), [{ label: 0, to: 1, count: 2 }]);
  assert.deepEqual(classLosses(before, before, labels, 3, 5), []);
});
