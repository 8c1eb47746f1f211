// SPDX-License-Identifier: MIT
/**
 * @file The one error path of every CLI in scripts/. Flags are parsed strictly: an unknown flag or
 * a missing value exits 2 with a hint. A user error (a bad value, a missing data folder, an
 * unreadable checkpoint or model card, a file that does not exist) prints one line
 * `<cli>: <message>` and exits 2; anything else prints `<cli>: error: <message>` and exits 1. Stack
 * traces only with `--debug`, which every CLI accepts.
 */
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import { ModelCardError } from '../common/model-card.ts';
import { ConfigError } from '../training/config.ts';
import { DatasetError } from '../training/data/errors.ts';
import { CheckpointError } from '../training/trainer/checkpoint.ts';

/** File-system failures on a path the user named: the path is wrong, not the program. */
const USER_FS_CODES = new Set(['ENOENT', 'ENOTDIR', 'EISDIR', 'EACCES', 'EPERM']);

export function isUserError(err: unknown): boolean {
  if (err instanceof ConfigError || err instanceof DatasetError || err instanceof ModelCardError || err instanceof CheckpointError)
    return true;
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' && USER_FS_CODES.has(code);
}

/** `--help` was asked for: runCli prints `text` on stdout and exits 0. */
export class HelpRequested extends Error {
  override readonly name = 'HelpRequested';
  constructor(readonly text: string) {
    super('help requested');
  }
}

/**
 * Strict parseArgs: unknown flags and missing values become a ConfigError with a --help hint. With
 * `help` given, `--help` anywhere answers it (HelpRequested) before any other check.
 */
export function parseFlags<T extends NonNullable<ParseArgsConfig['options']>>(
  argv: readonly string[],
  options: T,
  allowPositionals = false,
  help?: string,
): { values: ReturnType<typeof parseArgs<{ options: T; allowPositionals: boolean; strict: true }>>['values']; positionals: string[] } {
  if (help !== undefined && argv.includes('--help')) throw new HelpRequested(help);
  try {
    const { values, positionals } = parseArgs({ args: [...argv], options, strict: true, allowPositionals });
    return { values, positionals };
  } catch (err) {
    throw new ConfigError(`${(err as Error).message} (see --help)`);
  }
}

/** `--debug` anywhere on the command line; it is removed before the CLI's own parsing. */
function splitDebug(argv: readonly string[]): { debug: boolean; rest: string[] } {
  return { debug: argv.includes('--debug'), rest: argv.filter((a) => a !== '--debug') };
}

/** What a failed CLI prints and its exit code (exported for tests). */
export function describeFailure(name: string, err: unknown, debug: boolean): { text: string; code: 1 | 2 } {
  const user = isUserError(err);
  const message = err instanceof Error ? err.message : String(err);
  const stack = debug && err instanceof Error && err.stack ? `\n${err.stack}` : '';
  return { text: `${name}: ${user ? '' : 'error: '}${message}${stack}`, code: user ? 2 : 1 };
}

/**
 * Runs `main(argv)` and exits with its code (0 when it returns nothing), or reports its failure as
 * described above. `name` prefixes every error line, e.g. "train".
 */
export function runCli(name: string, main: (argv: string[]) => Promise<number | undefined>): void {
  const { debug, rest } = splitDebug(process.argv.slice(2));
  main(rest).then(
    (code) => process.exit(code ?? 0),
    (err: unknown) => {
      if (err instanceof HelpRequested) {
        process.stdout.write(`${err.text}\n`);
        process.exit(0);
      }
      const { text, code } = describeFailure(name, err, debug);
      process.stderr.write(`${text}\n`);
      process.exit(code);
    },
  );
}
