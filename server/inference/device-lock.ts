// SPDX-License-Identifier: MIT
/**
 * @file One lock per process around ONNX Runtime's WebGPU provider. Its context (one Dawn device and
 * command encoder per process) is shared by every session in the process, and two worker threads
 * using it at once corrupt each other's command stream: on an H200, two models loading at once
 * failed with "CommandEncoder is already finished" while uploading a weight. So every worker of
 * every model holds this lock while it creates, runs or releases a WebGPU session. CPU and CUDA
 * sessions never take it.
 *
 * The lock is a SharedArrayBuffer cell that the pool hands to every worker (workerData), holding
 * the owner's id (threadId + 1; 0 = free), so the pool can free it when a worker dies holding it.
 */

const PROCESS_LOCK = new SharedArrayBuffer(4);

/** The process-wide lock cell the pool passes to its workers. */
export function processDeviceLock(): SharedArrayBuffer {
  return PROCESS_LOCK;
}

/** How long a waiter sleeps before trying again (Atomics.notify wakes it sooner on release). */
const WAIT_SLICE_MS = 50;

/**
 * Runs `fn` holding the lock. Blocking is fine here: the caller is an inference worker, whose only
 * other work (cancellation) is read from shared memory, not from its event loop.
 */
export async function withDeviceLock<T>(lock: SharedArrayBuffer, owner: number, fn: () => Promise<T>): Promise<T> {
  const cell = new Int32Array(lock);
  for (;;) {
    const holder = Atomics.compareExchange(cell, 0, 0, owner);
    if (holder === 0) break;
    // Waiting on ourselves would never end: a nested call is a bug, said at once.
    if (holder === owner) throw new Error(`device lock is already held by this thread (owner ${owner}); it is not reentrant`);
    Atomics.wait(cell, 0, holder, WAIT_SLICE_MS);
  }
  try {
    return await fn();
  } finally {
    Atomics.store(cell, 0, 0);
    Atomics.notify(cell, 0, 1);
  }
}

/** Frees the lock if `owner` holds it (a worker that died inside a run); true when it did. */
export function releaseIfHeldBy(lock: SharedArrayBuffer, owner: number): boolean {
  const cell = new Int32Array(lock);
  if (Atomics.compareExchange(cell, 0, owner, 0) !== owner) return false;
  Atomics.notify(cell, 0, 1);
  return true;
}
