// SPDX-License-Identifier: MIT
/**
 * @file Cheap check for a usable NVIDIA driver before asking ORT for CUDA: on hosts without one,
 * creating a CUDA session throws (or worse, crashes natively), so auto mode must not even try.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const LIBRARY_DIRS = [
  '/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib',
  '/usr/local/nvidia/lib64', '/usr/local/cuda/lib64', '/usr/local/cuda/compat',
];

/** null when CUDA looks usable, else the reason it is not. */
export function cudaUnavailableReason(env: Readonly<Record<string, string | undefined>> = process.env): string | null {
  const dirs = [...(env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean), ...LIBRARY_DIRS];
  if (!dirs.some((dir) => existsSync(join(dir, 'libcuda.so.1')))) return 'libcuda.so.1 not found';
  let devices: string[] = [];
  try {
    devices = readdirSync('/dev').filter((name) => name.startsWith('nvidia'));
  } catch {
    devices = [];
  }
  return devices.length === 0 ? 'no /dev/nvidia* device' : null;
}
