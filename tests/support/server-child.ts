// SPDX-License-Identifier: MIT
/**
 * @file server/main.ts as a child process on an ephemeral port, for tests that must survive (and
 * notice) a native crash of the server: the port is read from the pino "listening" line, and the
 * child's exit code or signal is kept for the assertion message.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { repoFile } from '../../server/paths.ts';

export interface ServerChild {
  readonly proc: ChildProcess;
  readonly port: number;
  readonly baseUrl: string;
  /** Set once the child has exited: its code, or the signal that killed it. */
  exit(): string | null;
  /** The last few kB of stderr and stdout, for failure messages. */
  tail(): string;
  stop(): Promise<void>;
}

const TAIL_BYTES = 4096;
const LISTENING = /"port":(\d+),"msg":"listening"/;

/** Starts main.ts with PORT=0 on 127.0.0.1 and resolves once it listens (rejects if it exits first). */
export async function startServerChild(env: Record<string, string>, timeoutMs = 20_000): Promise<ServerChild> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    cwd: repoFile('.'),
    env: { PATH: process.env.PATH ?? '', PORT: '0', HOST: '127.0.0.1', WORKERS: '1', THREADS_PER_WORKER: '1', IGN_EP: 'cpu', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let exit: string | null = null;
  const keep = (text: string, chunk: Buffer): string => (text + chunk.toString()).slice(-TAIL_BYTES);
  proc.stdout.on('data', (c: Buffer) => { stdout = keep(stdout, c); });
  proc.stderr.on('data', (c: Buffer) => { stderr = keep(stderr, c); });
  const exited = new Promise<void>((resolve) => {
    proc.once('exit', (code, signal) => { exit = signal ?? `exit code ${String(code)}`; resolve(); });
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`server did not listen within ${timeoutMs} ms:\n${stderr}\n${stdout}`)); }, timeoutMs);
    const onData = (): void => {
      const match = LISTENING.exec(stdout);
      if (match === null) return;
      clearTimeout(timer);
      proc.stdout.off('data', onData);
      resolve(Number(match[1]));
    };
    proc.stdout.on('data', onData);
    void exited.then(() => { clearTimeout(timer); reject(new Error(`server exited (${String(exit)}) before listening:\n${stderr}`)); });
  }).catch((err: unknown) => { proc.kill('SIGKILL'); throw err; });
  return {
    proc, port, baseUrl: `http://127.0.0.1:${port}`,
    exit: () => exit,
    tail: () => `--- stderr ---\n${stderr}\n--- stdout ---\n${stdout}`,
    stop: async () => {
      if (exit !== null) return;
      proc.kill('SIGKILL');
      await exited;
    },
  };
}
