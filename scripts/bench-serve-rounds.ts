// SPDX-License-Identifier: MIT
/**
 * @file Medians over repeated bench:serve rounds. On a shared 2-core VM one 3-second cell can run
 * at half the speed of the next, so a single pass hands a target's verdict to whichever system had
 * the quiet seconds. With --rounds N every system is measured N times in turn (server, peer,
 * ceiling, raw, then again) and each cell reports the median of its rounds plus the req/s range.
 */
import type { LoopResult } from './bench-serve-closed-loop.ts';
import type { NoiseResult } from './bench-serve-noise.ts';
import type { RawResult } from './bench-serve-raw.ts';
import { median } from '../training/bench/report.ts';

export interface Row {
  system: string;
  route: string;
  concurrency: number;
  load: LoopResult;
  /** Lowest and highest responses/s over the rounds (one round: both equal the value). */
  range?: readonly [number, number];
}

/** A figure for the tables: `digits` decimals, 'n/a' when not finite. */
export const fmt = (n: number, digits = 1): string => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

/** ' (low–high)' of a row's responses/s over the rounds; empty for one round or no spread. */
export const rangeText = (r: Row): string =>
  r.range === undefined || r.range[0] === r.range[1] ? '' : ` (${fmt(r.range[0])}–${fmt(r.range[1])})`;

/** One row per (system, route, concurrency), in first-seen order: medians, summed statuses and errors. */
export function medianRows(rounds: readonly (readonly Row[])[]): Row[] {
  const groups = new Map<string, Row[]>();
  for (const row of rounds.flat()) {
    const key = `${row.system}\u0000${row.route}\u0000${row.concurrency}`;
    groups.set(key, [...(groups.get(key) ?? []), row]);
  }
  return [...groups.values()].map((rows) => {
    const loads = rows.map((r) => r.load);
    const statusCounts: Record<string, number> = {};
    for (const l of loads) for (const [s, n] of Object.entries(l.statusCounts)) statusCounts[s] = (statusCounts[s] ?? 0) + n;
    const rps = loads.map((l) => l.requestsPerSecond);
    return {
      ...rows[0]!,
      load: {
        requestsPerSecond: median(rps),
        p50Ms: median(loads.map((l) => l.p50Ms)),
        p99Ms: median(loads.map((l) => l.p99Ms)),
        statusCounts,
        errors: loads.reduce((sum, l) => sum + l.errors, 0),
        clientCpuUsPerRequest: median(loads.map((l) => l.clientCpuUsPerRequest ?? Number.NaN)),
      },
      range: [Math.min(...rps), Math.max(...rps)] as const,
    };
  });
}

/** Per batch size, the median of the rounds' raw session.run figures. */
export function medianRaw(rounds: readonly (readonly RawResult[])[]): RawResult[] {
  return rounds[0]!.map(({ batch }) => {
    const same = rounds.map((r) => r.find((x) => x.batch === batch)!);
    return {
      batch,
      runs: same.reduce((sum, r) => sum + r.runs, 0),
      runsPerSecond: median(same.map((r) => r.runsPerSecond)),
      imagesPerSecond: median(same.map((r) => r.imagesPerSecond)),
      p50Ms: median(same.map((r) => r.p50Ms)),
      p99Ms: median(same.map((r) => r.p99Ms)),
    };
  });
}

/** Each draw size's median µs per image over rounds, draws summed. */
export function medianNoise(rounds: readonly (readonly NoiseResult[])[]): NoiseResult[] {
  return rounds[0]!.map(({ count }) => {
    const same = rounds.map((r) => r.find((x) => x.count === count)!);
    return { count, draws: same.reduce((sum, r) => sum + r.draws, 0), usPerImage: median(same.map((r) => r.usPerImage)) };
  });
}
