// SPDX-License-Identifier: MIT
// bench:serve --rounds: per-cell medians, summed statuses and errors, the req/s range, raw medians.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fmt, medianNoise, medianRaw, medianRows, rangeText, type Row } from '../../scripts/bench-serve-rounds.ts';
import { median } from '../../training/bench/report.ts';

const row = (system: string, concurrency: number, rps: number, p50: number, errors = 0): Row => ({
  system,
  route: '/generate',
  concurrency,
  load: { requestsPerSecond: rps, p50Ms: p50, p99Ms: 2 * p50, statusCounts: { '200': rps }, errors, clientCpuUsPerRequest: p50 * 10 },
});

void test('median of odd and even counts, and of nothing', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.ok(Number.isNaN(median([])));
});

void test('medianRows groups by system, route and concurrency in first-seen order', () => {
  const rows = medianRows([
    [row('server', 1, 100, 5), row('peer', 1, 80, 6)],
    [row('server', 1, 300, 3, 1), row('peer', 1, 90, 7)],
    [row('server', 1, 200, 4), row('peer', 1, 70, 9)],
  ]);
  assert.deepEqual(
    rows.map((r) => [
      r.system,
      r.load.requestsPerSecond,
      r.load.p50Ms,
      r.load.p99Ms,
      r.load.errors,
      r.load.statusCounts['200'],
      r.range,
      r.load.clientCpuUsPerRequest,
    ]),
    [
      ['server', 200, 4, 8, 1, 600, [100, 300], 40],
      ['peer', 80, 7, 14, 0, 240, [70, 90], 70],
    ],
  );
});

void test('medianRaw takes each batch size median over rounds and sums the runs', () => {
  const raw = (batch: number, ips: number) => ({ batch, runs: 10, runsPerSecond: ips / batch, imagesPerSecond: ips, p50Ms: 1, p99Ms: 2 });
  const out = medianRaw([
    [raw(1, 100), raw(32, 3200)],
    [raw(1, 300), raw(32, 1600)],
    [raw(1, 200), raw(32, 6400)],
  ]);
  assert.deepEqual(
    out.map((r) => [r.batch, r.imagesPerSecond, r.runs]),
    [
      [1, 200, 30],
      [32, 3200, 30],
    ],
  );
});

void test('medianNoise takes each draw size median µs per image over rounds and sums the draws', () => {
  const out = medianNoise([
    [
      { count: 1, draws: 5, usPerImage: 120 },
      { count: 8, draws: 2, usPerImage: 100 },
    ],
    [
      { count: 1, draws: 5, usPerImage: 180 },
      { count: 8, draws: 2, usPerImage: 90 },
    ],
    [
      { count: 1, draws: 5, usPerImage: 150 },
      { count: 8, draws: 2, usPerImage: 300 },
    ],
  ]);
  assert.deepEqual(out, [
    { count: 1, draws: 15, usPerImage: 150 },
    { count: 8, draws: 6, usPerImage: 100 },
  ]);
});

void test("table text: fmt gives fixed decimals or n/a, rangeText the rounds' spread or nothing", () => {
  assert.equal(fmt(1234.567), '1234.6');
  assert.equal(fmt(0.1234, 3), '0.123');
  assert.equal(fmt(Number.NaN), 'n/a');
  const rows = medianRows([[row('server', 1, 100, 5)], [row('server', 1, 300, 3)]]);
  assert.equal(rangeText(rows[0]!), ' (100.0–300.0)');
  assert.equal(rangeText(row('server', 1, 100, 5)), '', 'one round: no range');
  assert.equal(rangeText(medianRows([[row('peer', 1, 80, 6)]])[0]!), '', 'one round through medianRows: no spread');
});
