// SPDX-License-Identifier: MIT
/**
 * The seeded stream is part of every reproducible result (training runs, checkpoints, /generate
 * seeds), so its values are pinned: the golden numbers below were produced by the uint32
 * implementation the project shipped before the state moved to int32 words, and a reference
 * xoshiro128** written the textbook way (every word kept as uint32) must agree with it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../common/rng.ts';

/** xoshiro128** seeded through splitmix32, every word uint32: the algorithm as published. */
function referenceStream(seed: number, count: number): number[] {
  let a = seed >>> 0;
  const splitmix = (): number => {
    a = (a + 0x9e3779b9) >>> 0;
    let z = a;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  const rotl = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;
  let [s0, s1, s2, s3] = [splitmix(), splitmix(), splitmix(), splitmix()];
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    out.push(Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0);
    const t = (s1 << 9) >>> 0;
    s2 = (s2 ^ s0) >>> 0;
    s3 = (s3 ^ s1) >>> 0;
    s1 = (s1 ^ s2) >>> 0;
    s0 = (s0 ^ s3) >>> 0;
    s2 = (s2 ^ t) >>> 0;
    s3 = rotl(s3, 11);
  }
  return out;
}

void test('nextU32 gives the pinned stream for seeds 0, 12345 and 2^32 − 1', () => {
  const golden: Record<number, number[]> = {
    0: [3809008728, 1133695204, 53579671, 2891528803, 139681546],
    12345: [518667457, 440444462, 4232892992, 3757857622, 3939018813],
    4294967295: [835879718, 1921286648, 2356205009, 1885780724, 980451116],
  };
  for (const [seed, values] of Object.entries(golden)) {
    const rng = new Rng(Number(seed));
    assert.deepEqual(
      values.map(() => rng.nextU32()),
      values,
      `seed ${seed}`,
    );
  }
});

void test('nextU32 equals a reference xoshiro128** with uint32 words over 100,000 draws', () => {
  for (const seed of [1, 0x80000000, 0xdeadbeef]) {
    const rng = new Rng(seed);
    const reference = referenceStream(seed, 100_000);
    const ours = reference.map(() => rng.nextU32());
    const first = ours.findIndex((v, i) => v !== reference[i]);
    assert.equal(first, -1, `seed ${seed}: first difference at draw ${first}`);
    assert.ok(
      ours.every((v) => Number.isInteger(v) && v >= 0 && v < 2 ** 32),
      'outputs are uint32',
    );
  }
});

void test('normal() keeps its pinned Box–Muller values, spare included', () => {
  const rng = new Rng(7);
  assert.deepEqual([rng.normal(), rng.normal(), rng.normal()], [-1.6997666599176475, -0.13089946146236464, 0.5907177151636736]);
});

void test('state() is four uint32 words, and fromState continues the stream exactly', () => {
  const rng = new Rng(12345);
  for (let i = 0; i < 1000; i++) rng.normal();
  const state = rng.state();
  assert.deepEqual(state, [4025016908, 4016230816, 2919648910, 1982677910]);
  const resumed = Rng.fromState(state);
  for (let i = 0; i < 1000; i++) assert.equal(resumed.nextU32(), rng.nextU32());
});

void test('state() drops an unused Box–Muller spare, so a resumed stream matches the snapshot', () => {
  const rng = new Rng(3);
  rng.normal(); // leaves a spare
  const resumed = Rng.fromState(rng.state());
  assert.equal(rng.normal(), resumed.normal());
});
