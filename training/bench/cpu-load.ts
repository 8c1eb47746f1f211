// SPDX-License-Identifier: MIT
/**
 * @file How busy the machine is right now: the fraction of all cores' time spent non-idle over a
 * short window (/proc/stat), sampled while the benchmark itself sits idle, so it measures other
 * processes. The 1-minute load average lags by a minute; this does not.
 *
 * API: busyFraction(windowMs) → Promise<number | null>   (null where /proc/stat is unreadable)
 */
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

interface CpuTimes {
  idle: number;
  total: number;
}

async function cpuTimes(): Promise<CpuTimes | null> {
  try {
    const first = (await readFile('/proc/stat', 'utf8')).split('\n')[0] ?? '';
    // cpu user nice system idle iowait irq softirq steal …
    const fields = first.trim().split(/\s+/).slice(1).map(Number);
    if (fields.length < 5 || fields.some((v) => !Number.isFinite(v))) return null;
    const idle = fields[3]! + fields[4]!;
    return { idle, total: fields.reduce((a, b) => a + b, 0) };
  } catch {
    return null;
  }
}

export async function busyFraction(windowMs: number): Promise<number | null> {
  const a = await cpuTimes();
  await sleep(windowMs);
  const b = await cpuTimes();
  if (!a || !b || b.total === a.total) return null;
  return 1 - (b.idle - a.idle) / (b.total - a.total);
}
