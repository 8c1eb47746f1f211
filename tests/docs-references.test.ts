// SPDX-License-Identifier: MIT
/**
 * The repository stands alone: no file cites a document that is not in it. Fails on a section sign
 * (the project's documents have headings, not numbered sections), on the names of the reference
 * notes the project was built from, on "finding N" pointers, on a `*.md` file name that no file in
 * the repository has, and on a `docs/<file>.md, "Heading"` pointer whose heading does not exist.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';

const root = new URL('../', import.meta.url).pathname;
const SKIP_DIRS = new Set(['node_modules', '.git', 'dist', 'runs', 'coverage', '.tmp', 'fixtures']);
const TEXT = /\.(ts|js|mjs|cjs|md|ya?ml|json|py|sh|txt|html|css)$|^Dockerfile$|^run$/;

function textFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return SKIP_DIRS.has(name) ? [] : textFiles(path);
    return TEXT.test(name) && name !== 'package-lock.json' ? [path] : [];
  });
}

const files = textFiles(root);
const names = new Set(files.map((f) => basename(f).toLowerCase()));

/** Citation patterns that point outside the repository, with what each means. */
const FORBIDDEN: readonly [RegExp, string][] = [
  [/§/, 'a numbered-section reference (point at a docs/ heading instead)'],
  [/\b(ign-paper-notes|autodiff-notes|server-hardening)\b/, 'a reference note that is not in the repository'],
  [/\bfindings? \d/i, 'a "finding N" pointer into a document that is not in the repository'],
  [/\bnotes \d/i, 'a "notes N" pointer into a document that is not in the repository'],
];

/** `#`-headings of a markdown file, without the hashes. */
function headings(path: string): Set<string> {
  return new Set(
    readFileSync(path, 'utf8')
      .split('\n')
      .filter((l) => /^#{1,6} /.test(l))
      .map((l) => l.replace(/^#+ /, '').trim()),
  );
}

void test('the patterns catch the citations this test exists to keep out', () => {
  for (const bad of ['server-hardening.md §12', 'see finding 9', 'autodiff-notes §8.3', 'per notes §7', 'ign-paper-notes']) {
    assert.ok(
      FORBIDDEN.some(([pattern]) => pattern.test(bad)),
      bad,
    );
  }
  assert.ok(!names.has('style.md'), 'a file name that is not in the repository is reported');
});

void test('no tracked file cites a document outside the repository', () => {
  const problems: string[] = [];
  for (const file of files) {
    const rel = relative(root, file);
    if (rel === 'tests/docs-references.test.ts') continue;
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        for (const [pattern, what] of FORBIDDEN) if (pattern.test(line)) problems.push(`${rel}:${i + 1}: ${what}: ${line.trim()}`);
        for (const match of line.matchAll(/(?<![\w<>*{}-])([\w.-]+)\.md\b/g)) {
          const name = `${match[1]}.md`;
          if (!names.has(name.toLowerCase())) problems.push(`${rel}:${i + 1}: ${name} is not in the repository: ${line.trim()}`);
        }
      });
  }
  assert.deepEqual(problems, []);
});

void test('every docs/<file>.md "Heading" pointer names a heading that exists', () => {
  const problems: string[] = [];
  let pointers = 0;
  for (const file of files) {
    const rel = relative(root, file);
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        for (const match of line.matchAll(/docs\/([\w-]+)\.md([^)]*)/g)) {
          const doc = join(root, 'docs', `${match[1]}.md`);
          if (!names.has(`${match[1]}.md`)) {
            problems.push(`${rel}:${i + 1}: docs/${match[1]}.md does not exist`);
            continue;
          }
          const known = headings(doc);
          for (const quoted of (match[2] ?? '').matchAll(/"([^"]+)"/g)) {
            pointers += 1;
            if (!known.has(quoted[1]!)) problems.push(`${rel}:${i + 1}: docs/${match[1]}.md has no heading "${quoted[1]}"`);
          }
        }
      });
  }
  assert.deepEqual(problems, []);
  assert.ok(pointers > 20, `only ${pointers} heading pointers found: the pattern no longer matches the comments`);
});
