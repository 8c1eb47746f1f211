// SPDX-License-Identifier: MIT
/**
 * @file A small Dockerfile reader for static checks (no Docker engine on CI): joins `\` line
 * continuations, keeps heredoc bodies with the instruction that opens them, and groups
 * instructions by build stage.
 */

export interface Instruction {
  readonly keyword: string;
  readonly args: string;
  /** Body of a `<<'EOF'` heredoc opened by this instruction, if any. */
  readonly heredoc: string | null;
}

export interface Stage {
  readonly name: string;
  readonly base: string;
  readonly instructions: Instruction[];
}

export interface Dockerfile {
  /** ARGs declared before the first FROM (usable in FROM lines). */
  readonly globalArgs: ReadonlyMap<string, string>;
  readonly stages: Stage[];
}

function readHeredoc(lines: string[], start: number, marker: string): { body: string; next: number } {
  const body: string[] = [];
  let i = start;
  while (i < lines.length && lines[i] !== marker) body.push(lines[i++]!);
  return { body: body.join('\n'), next: i + 1 };
}

function logicalInstructions(text: string): Instruction[] {
  const lines = text.split('\n');
  const out: Instruction[] = [];
  let i = 0;
  while (i < lines.length) {
    let line = lines[i++]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    while (line.endsWith('\\') && i < lines.length) {
      const next = lines[i++]!.trim();
      // Docker drops comment lines inside a continued instruction.
      if (next.startsWith('#')) continue;
      line = line.slice(0, -1).trimEnd() + ' ' + next;
    }
    const match = /^(\S+)\s*(.*)$/.exec(line);
    if (match === null) continue;
    const heredocMarker = /<<-?'?"?(\w+)'?"?/.exec(match[2]!)?.[1];
    let heredoc: string | null = null;
    if (heredocMarker !== undefined) {
      const read = readHeredoc(lines, i, heredocMarker);
      heredoc = read.body;
      i = read.next;
    }
    out.push({ keyword: match[1]!.toUpperCase(), args: match[2]!, heredoc });
  }
  return out;
}

export function parseDockerfile(text: string): Dockerfile {
  const globalArgs = new Map<string, string>();
  const stages: Stage[] = [];
  for (const ins of logicalInstructions(text)) {
    if (ins.keyword === 'FROM') {
      const m = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      if (m === null) throw new Error(`unparsable FROM: ${ins.args}`);
      stages.push({ base: m[1]!, name: m[2] ?? `#${stages.length}`, instructions: [] });
    } else if (stages.length === 0) {
      if (ins.keyword === 'ARG') {
        const [key, value = ''] = ins.args.split('=', 2);
        globalArgs.set(key!.trim(), value.trim());
      }
    } else {
      stages.at(-1)!.instructions.push(ins);
    }
  }
  return { globalArgs, stages };
}

/** Expands `${NAME}` in a FROM base with the global ARG defaults. */
export function expandArgs(value: string, args: ReadonlyMap<string, string>): string {
  return value.replace(/\$\{(\w+)\}|\$(\w+)/g, (_all, a: string | undefined, b: string | undefined) => args.get(a ?? b ?? '') ?? '');
}

/** The stage chain from `name` back to an external image, e.g. final → runtime-cpu → node:20. */
export function resolveStage(file: Dockerfile, name: string): Stage[] {
  const chain: Stage[] = [];
  let current = file.stages.find((s) => s.name === name);
  while (current !== undefined) {
    chain.push(current);
    const base = expandArgs(current.base, file.globalArgs);
    current = file.stages.find((s) => s.name === base);
  }
  return chain;
}

/** The JSON-array (exec) form of CMD/ENTRYPOINT/HEALTHCHECK CMD as a string list. */
export function execForm(args: string): string[] {
  const start = args.indexOf('[');
  if (start < 0) throw new Error(`not in exec form: ${args}`);
  return JSON.parse(args.slice(start)) as string[];
}

/** ENV in `KEY=value KEY2=value2` form (values without spaces). */
export function envPairs(stage: Stage): Map<string, string> {
  const env = new Map<string, string>();
  for (const ins of stage.instructions.filter((i) => i.keyword === 'ENV')) {
    for (const pair of ins.args.split(/\s+/)) {
      const [key, value] = pair.split('=', 2);
      if (key !== undefined && value !== undefined) env.set(key, value);
    }
  }
  return env;
}
