// SPDX-License-Identifier: MIT
/**
 * @file A persistent Python child (scripts/bench-train-torch.py) driven by one JSON line per request
 * and answered by one JSON line, so benchmark rounds can alternate ONNX Runtime and PyTorch without
 * ever running both at once, and without paying the torch import per round.
 *
 * API:
 *   torchAvailable(python) → boolean            `python -c 'import torch'` exits 0
 *   TorchChild.start(python, script, threads, extraEnv?) → TorchChild
 *   child.request<T>(message) → Promise<T>       one reply per request, in order
 *   child.close() → Promise<void>
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';

export function torchAvailable(python: string): boolean {
  const probe = spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore', timeout: 180_000 });
  return probe.status === 0;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

export class TorchChild {
  private readonly pending: Pending[] = [];
  private exited: Error | null = null;
  private stderr = '';

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    createInterface({ input: child.stdout }).on('line', (line) => {
      this.answer(line);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString()).slice(-4000);
    });
    child.on('exit', (code) => {
      this.exited = new Error(`PyTorch child exited with ${String(code)}: ${this.stderr.trim()}`);
      for (const p of this.pending.splice(0)) p.reject(this.exited);
    });
  }

  static start(python: string, script: string, threads: number, extraEnv: Readonly<Record<string, string>> = {}): TorchChild {
    const env = { ...process.env, OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads), ...extraEnv };
    return new TorchChild(spawn(python, [script, String(threads)], { env, stdio: ['pipe', 'pipe', 'pipe'] }));
  }

  request<T>(message: Record<string, unknown>): Promise<T> {
    if (this.exited) return Promise.reject(this.exited);
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ resolve: resolve as (v: unknown) => void, reject });
      this.child.stdin.write(`${JSON.stringify(message)}\n`);
    });
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const done = new Promise<void>((resolve) =>
      this.child.once('exit', () => {
        resolve();
      }),
    );
    this.child.stdin.end(`${JSON.stringify({ cmd: 'quit' })}\n`);
    await done;
  }

  private answer(line: string): void {
    const p = this.pending.shift();
    if (!p) return;
    try {
      const reply = JSON.parse(line) as { error?: string };
      if (typeof reply.error === 'string') p.reject(new Error(`PyTorch child: ${reply.error}`));
      else p.resolve(reply);
    } catch {
      p.reject(new Error(`PyTorch child sent a non-JSON line: ${line.slice(0, 200)}`));
    }
  }
}
