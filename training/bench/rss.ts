// SPDX-License-Identifier: MIT
/**
 * @file Peak resident memory of this process per benchmark phase. Linux keeps the peak (VmHWM) in
 * /proc/self/status and resets it when 5 is written to /proc/self/clear_refs; elsewhere the phase
 * peak is unknown (null) rather than a process-lifetime figure passed off as one.
 *
 * API: resetPeakRss() → boolean (reset done); peakRssMiB() → number | null
 */
import { readFileSync, writeFileSync } from 'node:fs';

export function resetPeakRss(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

export function peakRssMiB(): number | null {
  try {
    const line = readFileSync('/proc/self/status', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('VmHWM:'));
    const kib = line ? Number(line.split(/\s+/)[1]) : NaN;
    return Number.isFinite(kib) ? kib / 1024 : null;
  } catch {
    return null;
  }
}
