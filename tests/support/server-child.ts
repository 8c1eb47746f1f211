// SPDX-License-Identifier: MIT
/**
 * @file The one way tests start server/main.ts as a child process: on port 0 (the port is read
 * from the pino "listening" line, so no port is guessed), with its output kept for assertions and
 * failure messages, and its exit code or signal recorded. `spawnServer` starts it and returns at
 * once (startup-failure tests wait for the exit); `startServerChild` also waits until it listens.
 * `prefix` runs it under another command (e.g. setpriv to drop privileges).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { repoFile } from '../../server/paths.ts';

export interface SpawnOptions {
  /** Command and arguments placed before `node --import tsx server/main.ts`. */
  readonly prefix?: readonly string[];
  readonly cwd?: string;
}

export interface ServerProcess {
  readonly proc: ChildProcess;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  /** Set once the child has exited: its code, or the signal that killed it. */
  exit(): string | null;
  stdout(): string;
  stderr(): string;
  /** The last few kB of stderr and stdout, for failure messages. */
  tail(): string;
  /** The port from the "listening" log line; rejects if the child exits first or `timeoutMs` passes. */
  listening(timeoutMs?: number): Promise<number>;
  stop(): Promise<void>;
}

export interface ServerChild extends ServerProcess {
  readonly port: number;
  readonly baseUrl: string;
}

const TAIL_BYTES = 4096;
const LISTENING = /"port":(\d+),"msg":"listening"/;

/** Starts main.ts with PORT=0 on 127.0.0.1 and one single-threaded worker unless `env` says otherwise. */
export function spawnServer(env: Record<string, string>, options: SpawnOptions = {}): ServerProcess {
  const [command = process.execPath, ...prefixArgs] = options.prefix ?? [];
  const nodeArgs = ['--import', repoFile('node_modules/tsx/dist/loader.mjs'), repoFile('server/main.ts')];
  const args = options.prefix === undefined ? nodeArgs : [...prefixArgs, process.execPath, ...nodeArgs];
  const proc = spawn(command, args, {
    cwd: options.cwd ?? repoFile('.'),
    env: { PATH: process.env.PATH ?? '', PORT: '0', HOST: '127.0.0.1', WORKERS: '1', THREADS_PER_WORKER: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let exit: string | null = null;
  proc.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
  });
  proc.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const exited = new Promise<number | null>((resolve) => {
    proc.once('exit', (code, signal) => {
      exit = signal ?? `exit code ${String(code)}`;
      resolve(code);
    });
  });
  const tail = (): string => `--- stderr ---\n${stderr.slice(-TAIL_BYTES)}\n--- stdout ---\n${stdout.slice(-TAIL_BYTES)}`;
  return {
    proc,
    exited,
    tail,
    exit: () => exit,
    stdout: () => stdout,
    stderr: () => stderr,
    listening: (timeoutMs = 20_000) =>
      new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => {
          done();
          reject(new Error(`server did not listen within ${timeoutMs} ms:\n${tail()}`));
        }, timeoutMs);
        const check = (): void => {
          const match = LISTENING.exec(stdout);
          if (match !== null) {
            done();
            resolve(Number(match[1]));
          }
        };
        const onExit = (): void => {
          done();
          reject(new Error(`server exited (${String(exit)}) before listening:\n${tail()}`));
        };
        const done = (): void => {
          clearTimeout(timer);
          proc.stdout.off('data', check);
          proc.off('exit', onExit);
        };
        proc.stdout.on('data', check);
        proc.once('exit', onExit);
        if (exit !== null) onExit();
        else check();
      }),
    stop: async () => {
      if (exit !== null) return;
      proc.kill('SIGKILL');
      await exited;
    },
  };
}

/** spawnServer with IGN_EP=cpu, resolved once it listens (killed if it never does). */
export async function startServerChild(env: Record<string, string>, timeoutMs = 20_000): Promise<ServerChild> {
  const child = spawnServer({ IGN_EP: 'cpu', ...env });
  const port = await child.listening(timeoutMs).catch(async (err: unknown) => {
    await child.stop();
    throw err;
  });
  return { ...child, port, baseUrl: `http://127.0.0.1:${port}` };
}
