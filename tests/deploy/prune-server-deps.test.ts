// SPDX-License-Identifier: MIT
// The image's dependency trim (scripts/prune-server-deps.mjs, run by the Dockerfile's prod-deps
// stages): on a node_modules laid out from the real package-lock.json it keeps everything the server
// imports and removes the training-only packages and what only they needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../../', import.meta.url).pathname;
const script = join(root, 'scripts/prune-server-deps.mjs');

/** The names the Dockerfile drops (ARG SERVER_UNUSED_DEPS="…"). */
function unusedDeps(): string[] {
  const m = /^ARG SERVER_UNUSED_DEPS="([^"]+)"$/m.exec(readFileSync(join(root, 'Dockerfile'), 'utf8'));
  assert.ok(m, 'Dockerfile sets ARG SERVER_UNUSED_DEPS="…"');
  return m[1]!.split(/\s+/);
}

/** Bare package names imported (statically or with a literal import()) by the .ts files under dir. */
function importedPackages(dir: string): Set<string> {
  const found = new Set<string>();
  for (const entry of readdirSync(join(root, dir), { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const text = readFileSync(join(entry.parentPath, entry.name), 'utf8');
    for (const m of text.matchAll(/(?:from|import\()\s*'([^'.][^']*)'/g)) {
      const spec = m[1]!;
      if (spec.startsWith('node:')) continue;
      found.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
    }
  }
  return found;
}

void test('the dropped dependencies are never imported by the code the image runs (server/, common/)', () => {
  const imported = new Set([...importedPackages('server'), ...importedPackages('common')]);
  assert.ok(imported.has('express') && imported.has('onnxruntime-node'), 'the import scan sees the server stack');
  for (const name of unusedDeps()) assert.ok(!imported.has(name), `server/ or common/ imports ${name}`);
});

void test('on the real lockfile: keeps the server closure, removes the training-only packages and their own deps', () => {
  const app = mkdtempSync(join(tmpdir(), 'prune-deps-'));
  try {
    copyFileSync(join(root, 'package.json'), join(app, 'package.json'));
    copyFileSync(join(root, 'package-lock.json'), join(app, 'package-lock.json'));
    const lock = JSON.parse(readFileSync(join(app, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
    // What `npm ci --omit=dev` lays out (every platform's optional package too: a superset is fine).
    const installed = Object.entries(lock.packages)
      .filter(([path, e]) => path !== '' && e.dev !== true)
      .map(([path]) => path);
    for (const path of installed) mkdirSync(join(app, path), { recursive: true });
    mkdirSync(join(app, 'node_modules/.bin'));
    symlinkSync('../tsx/dist/cli.mjs', join(app, 'node_modules/.bin/tsx'));
    mkdirSync(join(app, 'node_modules/tsx/dist'), { recursive: true });

    const out = execFileSync(process.execPath, [script, app, ...unusedDeps()], { encoding: 'utf8' });
    assert.match(out, /kept \d+ packages, removed \d+/);
    const present = (name: string): boolean => existsSync(join(app, 'node_modules', name));
    for (const name of importedPackages('server')) assert.ok(present(name), `${name} (imported by server/) is kept`);
    for (const name of ['onnxruntime-common', 'sharp', '@img/sharp-linux-x64', '@img/sharp-libvips-linux-x64'])
      assert.ok(present(name), `${name} is kept`);
    for (const name of [...unusedDeps(), 'underscore', 'esbuild', '@esbuild/linux-x64']) assert.ok(!present(name), `${name} is removed`);
    assert.deepEqual(readdirSync(join(app, 'node_modules/.bin')), [], 'the dangling tsx launcher is removed');
  } finally {
    rmSync(app, { recursive: true, force: true });
  }
});

void test('refuses to drop a name that is not a dependency (a typo would silently keep a package)', () => {
  const app = mkdtempSync(join(tmpdir(), 'prune-deps-'));
  try {
    copyFileSync(join(root, 'package.json'), join(app, 'package.json'));
    copyFileSync(join(root, 'package-lock.json'), join(app, 'package-lock.json'));
    assert.throws(
      () => execFileSync(process.execPath, [script, app, 'fashion-mnsit'], { stdio: 'pipe' }),
      /not dependencies in package\.json: fashion-mnsit/,
    );
  } finally {
    rmSync(app, { recursive: true, force: true });
  }
});
