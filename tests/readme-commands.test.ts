// SPDX-License-Identifier: MIT
// Keeps the README's "### Try every endpoint" curl commands true: each line of its ```sh block is
// split into words (no shell), pointed at main.ts running on an ephemeral port, and must exit 0
// (the lines use `curl -f`, so an HTTP error fails them). README_PATH overrides README.md.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import sharp from 'sharp';
import { repoFile } from '../server/paths.ts';
import { startServerChild, type ServerChild } from './support/server-child.ts';
import { writeTinyModelDir } from './support/tiny-model.ts';

const HEADING = '### Try every endpoint';
const README = process.env.README_PATH ?? 'README.md';
const readmePath = isAbsolute(README) ? README : repoFile(README);
/** Every route a reader should be able to try; `{model}` is the served model's name. */
const ENDPOINTS = [
  '/generate',
  '/project',
  '/healthz',
  '/readyz',
  '/metrics',
  '/openapi.yaml',
  '/v2',
  '/v2/health/live',
  '/v2/health/ready',
  '/v2/models/{model}',
  '/v2/models/{model}/ready',
  '/v2/models/{model}/infer',
  '/v2/repository/index',
];

/** The lines of the first ```sh fence after HEADING (continuations joined, comments and blanks dropped). */
function tryBlockLines(markdown: string): string[] {
  const lines = markdown.split(/\r?\n/);
  const at = lines.findIndex((l) => l.trim() === HEADING);
  assert.ok(at >= 0, `${readmePath} has no "${HEADING}" heading (followed by a \`\`\`sh block of curl commands)`);
  const open = lines.findIndex((l, i) => i > at && (/^```/.test(l) || /^#{1,6} /.test(l)));
  assert.ok(
    open > at && /^```sh\s*$/.test(lines[open]!),
    `${readmePath}: "${HEADING}" must be followed by a \`\`\`sh block before the next heading`,
  );
  const close = lines.findIndex((l, i) => i > open && /^```\s*$/.test(l));
  assert.ok(close > open, `${readmePath}: the \`\`\`sh block after "${HEADING}" is not closed`);
  const joined = lines
    .slice(open + 1, close)
    .join('\n')
    .replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/** POSIX-ish word splitting: '…', "…" (with \ escapes), backslash escapes, # comments; refuses operators. */
function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (ch === ' ' || ch === '\t') {
      if (word !== null) words.push(word);
      word = null;
      continue;
    }
    if (ch === '#' && word === null) break;
    if ('|&;<>()`$'.includes(ch)) throw new Error(`shell operator "${ch}" in: ${line} (one plain curl command per line)`);
    word ??= '';
    if (ch === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unclosed ' in: ${line}`);
      word += line.slice(i + 1, end);
      i = end;
    } else if (ch === '"') {
      for (i++; i < line.length && line[i] !== '"'; i++) {
        if (line[i] === '\\' && '"\\$`'.includes(line[i + 1] ?? '')) i++;
        else if (line[i] === '$' || line[i] === '`') throw new Error(`expansion inside "…" in: ${line}`);
        word += line[i]!;
      }
      if (i >= line.length) throw new Error(`unclosed " in: ${line}`);
    } else if (ch === '\\') {
      word += line[++i] ?? '';
    } else {
      word += ch;
    }
  }
  if (word !== null) words.push(word);
  return words;
}

const failsOnHttpError = (args: readonly string[]): boolean =>
  args.some((a) => a === '--fail' || a === '--fail-with-body' || /^-[A-Za-z]*f[A-Za-z]*$/.test(a));

function runCurl(args: readonly string[], cwd: string): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile('curl', [...args, '--max-time', '20'], { cwd, maxBuffer: 32 * 1024 * 1024, encoding: 'buffer' }, (err, _stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      resolve({ code, stderr: stderr.toString() });
    });
  });
}

/** A 28×28 grey "7" with a little anti-aliasing, written as digit.png where the commands run. */
async function writeDigit(dir: string): Promise<void> {
  const px = Buffer.alloc(28 * 28);
  for (let x = 6; x < 22; x++) {
    px[6 * 28 + x] = 255;
    px[7 * 28 + x] = 200;
  }
  for (let y = 8; y < 23; y++) {
    const x = 21 - Math.floor((y - 8) / 2);
    px[y * 28 + x] = 255;
    px[y * 28 + x - 1] = 160;
  }
  await sharp(px, { raw: { width: 28, height: 28, channels: 1 } })
    .png()
    .toFile(join(dir, 'digit.png'));
}

let work: string;
let server: ServerChild | undefined;
let modelName: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'ign-readme-'));
  await writeDigit(work);
  // What `npm start` serves: the bundled repository (a tiny stand-in when the models are absent).
  let repository = repoFile('models');
  if (!existsSync(join(repository, 'mnist', 'model.json'))) {
    repository = join(work, 'models');
    await writeTinyModelDir(join(repository, 'mnist'), { channels: 1, height: 28, width: 28 }, 'mnist');
  }
  modelName = (JSON.parse(readFileSync(join(repository, 'mnist', 'model.json'), 'utf8')) as { name: string }).name;
  // The README's blank Open Inference Protocol request.
  const infer = { id: '1', inputs: [{ name: 'x', shape: [1, 1, 28, 28], datatype: 'FP32', data: new Array<number>(784).fill(-1) }] };
  await writeFile(join(work, 'infer.json'), JSON.stringify(infer));
  server = await startServerChild({ MODEL_REPOSITORY: repository });
});
after(async () => {
  await server?.stop();
  await rm(work, { recursive: true, force: true });
});

void test(`every curl line under "${HEADING}" in the README succeeds against the real server`, async (t) => {
  assert.ok(existsSync(readmePath), `${readmePath} does not exist (set README_PATH to test another file)`);
  const lines = tryBlockLines(readFileSync(readmePath, 'utf8'));
  assert.ok(lines.length > 0, `${readmePath}: the block after "${HEADING}" has no commands`);
  const hit = new Set<string>();
  for (const line of lines) {
    const words = shellWords(line);
    assert.equal(words[0], 'curl', `only curl commands belong in the block: ${line}`);
    assert.ok(failsOnHttpError(words), `use curl -fsS so an HTTP error fails the command: ${line}`);
    assert.ok(
      words.some((w) => w.includes('localhost:8080')),
      `the command must target localhost:8080: ${line}`,
    );
    const args = words.slice(1).map((w) => w.replaceAll('localhost:8080', `127.0.0.1:${server!.port}`));
    for (const w of words) {
      const path = /localhost:8080(\/[^?\s]*)/.exec(w)?.[1];
      if (path !== undefined) hit.add(path);
    }
    const { code, stderr } = await runCurl(args, work);
    assert.equal(code, 0, `exit ${code}: ${line}\n${stderr}`);
  }
  t.diagnostic(`${lines.length} commands ran; paths ${[...hit].join(' ')}`);
  const missing = ENDPOINTS.map((e) => e.replace('{model}', modelName)).filter((e) => !hit.has(e));
  assert.deepEqual(missing, [], `"${HEADING}" does not try ${missing.join(', ')}`);
  assert.equal(server!.exit(), null, 'the server is still up after the commands');
});
