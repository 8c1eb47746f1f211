// SPDX-License-Identifier: MIT
// Trims a production node_modules (after `npm ci --omit=dev`) to what the compiled server can load:
// the closure, through package-lock.json, of package.json's dependencies minus the ones named on the
// command line (the training datasets, tsx). Every other installed package is removed, so a
// dependency shared with a kept package stays and one only a dropped package needed goes.
//
//   node prune-server-deps.mjs <app dir> <dependency to drop>...
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Node's lookup from the package at lock path `from` ('' = the app): nearest node_modules/<name> upwards. */
function resolve(packages, from, name) {
  for (let dir = from; ; dir = dir.includes('/node_modules/') ? dir.slice(0, dir.lastIndexOf('/node_modules/')) : '') {
    const candidate = `${dir === '' ? '' : `${dir}/`}node_modules/${name}`;
    if (candidate in packages) return candidate;
    if (dir === '') return null;
  }
}

/** Lock paths (node_modules/…) reachable from `dependencies` without the dropped ones. */
export function keptPackages(dependencies, packages, drop) {
  const unknown = drop.filter((name) => !(name in dependencies));
  if (unknown.length > 0) throw new Error(`not dependencies in package.json: ${unknown.join(', ')}`);
  const keep = new Set();
  const pending = Object.keys(dependencies)
    .filter((name) => !drop.includes(name))
    .map((name) => resolve(packages, '', name));
  while (pending.length > 0) {
    const path = pending.pop();
    if (path === null || keep.has(path)) continue;
    keep.add(path);
    const entry = packages[path];
    const needs = { ...entry.dependencies, ...entry.optionalDependencies, ...entry.peerDependencies };
    for (const name of Object.keys(needs)) pending.push(resolve(packages, path, name));
  }
  return keep;
}

function main([appDir, ...drop]) {
  if (appDir === undefined || drop.length === 0) {
    console.error('usage: node prune-server-deps.mjs <app dir> <dependency to drop>...');
    process.exit(2);
  }
  const readJson = (file) => JSON.parse(readFileSync(join(appDir, file), 'utf8'));
  const { packages } = readJson('package-lock.json');
  let keep;
  try {
    keep = keptPackages(readJson('package.json').dependencies ?? {}, packages, drop);
  } catch (err) {
    console.error(`prune-server-deps: ${err.message}`);
    process.exit(1);
  }
  let removed = 0;
  for (const path of Object.keys(packages)) {
    if (path === '' || keep.has(path) || !existsSync(join(appDir, path))) continue;
    rmSync(join(appDir, path), { recursive: true, force: true });
    removed++;
  }
  // Launchers of removed packages (node_modules/.bin/tsx …) would dangle.
  const bin = join(appDir, 'node_modules/.bin');
  if (existsSync(bin)) for (const link of readdirSync(bin)) if (!existsSync(join(bin, link))) rmSync(join(bin, link));
  console.log(`prune-server-deps: kept ${keep.size} packages, removed ${removed}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main(process.argv.slice(2));
