// SPDX-License-Identifier: MIT
// Static checks of the Dockerfile, plus two pieces that run without any image: the HEALTHCHECK
// one-liner and the ORT pruning script. The CPU image itself is built and run by
// scripts/container-smoke.sh (buildah; docs/serving.md, "Container"); the CUDA variant is only checked here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { envPairs, execForm, expandArgs, parseDockerfile, resolveStage } from './dockerfile-parse.ts';
import type { Dockerfile, Instruction, Stage } from './dockerfile-parse.ts';

const root = new URL('../../', import.meta.url).pathname;
const dockerfile = parseDockerfile(readFileSync(join(root, 'Dockerfile'), 'utf8'));

function stage(name: string): Stage {
  const found = dockerfile.stages.find((s) => s.name === name);
  assert.ok(found, `stage ${name} exists`);
  return found;
}

function last(s: Stage, keyword: string): Instruction {
  const found = s.instructions.filter((i) => i.keyword === keyword).at(-1);
  assert.ok(found, `${s.name} has ${keyword}`);
  return found;
}

function runs(s: Stage): string {
  return s.instructions
    .filter((i) => i.keyword === 'RUN')
    .map((i) => i.args)
    .join('\n');
}

const runtimes = ['runtime-cpu', 'runtime-cuda'] as const;

void test('the default build is the CPU target and VARIANT=cuda selects the CUDA one', () => {
  assert.equal(dockerfile.globalArgs.get('VARIANT'), 'cpu');
  const final = dockerfile.stages.at(-1)!;
  assert.equal(final.base, 'runtime-${VARIANT}');
  assert.equal(resolveStage(dockerfile, final.name)[1]?.name, 'runtime-cpu');
  const cuda: Dockerfile = { ...dockerfile, globalArgs: new Map([...dockerfile.globalArgs, ['VARIANT', 'cuda']]) };
  assert.equal(resolveStage(cuda, final.name)[1]?.name, 'runtime-cuda');
});

void test('bases: node:20-bookworm-slim for CPU, an nvidia/cuda cuDNN runtime image for CUDA', () => {
  assert.equal(expandArgs(stage('runtime-cpu').base, dockerfile.globalArgs), 'node:20-bookworm-slim');
  const cudaBase = expandArgs(stage('runtime-cuda').base, dockerfile.globalArgs);
  assert.match(cudaBase, /^nvidia\/cuda:12\.\d+(\.\d+)?-cudnn-runtime-ubuntu\d+\.\d+$/);
});

void test('npm ci skips the NuGet download everywhere except the CUDA dependency stage', () => {
  assert.equal(envPairs(stage('build')).get('ONNXRUNTIME_NODE_INSTALL'), 'skip');
  assert.match(runs(stage('build')), /npm ci\b/);
  assert.match(runs(stage('build')), /npm run build/);
  assert.match(runs(stage('prod-deps-cpu')), /ONNXRUNTIME_NODE_INSTALL=skip npm ci --omit=dev/);
  assert.match(runs(stage('prod-deps-cuda')), /ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci --omit=dev/);
  assert.match(runs(stage('prod-deps-cuda')), /libonnxruntime_providers_cuda\.so/);
  for (const name of ['prod-deps-cpu', 'prod-deps-cuda']) {
    assert.match(runs(stage(name)), /prune-ort/);
    assert.match(runs(stage(name)), /&& node prune-server-deps\.mjs \. \$SERVER_UNUSED_DEPS$/);
    assert.ok(
      stage(name).instructions.some((i) => i.keyword === 'ARG' && i.args === 'SERVER_UNUSED_DEPS'),
      `${name} declares ARG SERVER_UNUSED_DEPS`,
    );
  }
});

void test('buildah 1.28 can build the CPU target: no heredocs; npm stages accept a proxy CA', () => {
  const all = dockerfile.stages.flatMap((s) => s.instructions);
  assert.deepEqual(
    all.filter((i) => i.heredoc !== null).map((i) => i.args),
    [],
    'heredocs (COPY <<EOF) need BuildKit',
  );
  // The CPU chain never expands a variable into a stage name (only `final` does; buildah uses --target).
  for (const s of resolveStage(dockerfile, 'runtime-cpu')) assert.doesNotMatch(s.base, /\$\{VARIANT\}/);
  for (const s of dockerfile.stages.filter((st) => /\bnpm (ci|install)\b/.test(runs(st)))) {
    assert.ok(
      s.instructions.some((i) => i.keyword === 'ARG' && i.args === 'NODE_EXTRA_CA_CERTS'),
      `${s.name} declares ARG NODE_EXTRA_CA_CERTS`,
    );
  }
});

void test('the runtime images hold no npm cache and no compiler: only node_modules, dist/{common,server}, models', () => {
  for (const name of runtimes) {
    const copies = stage(name)
      .instructions.filter((i) => i.keyword === 'COPY')
      .map((i) => i.args);
    const fromDeps = copies.filter((c) => c.startsWith('--from=prod-deps'));
    assert.deepEqual(
      fromDeps.map((c) => c.split(/\s+/).slice(1)),
      [['/app/node_modules', './node_modules']],
    );
    const fromBuild = copies.filter((c) => c.startsWith('--from=build /app/'));
    assert.deepEqual(
      fromBuild.map((c) => c.split(/\s+/)[1]),
      ['/app/dist/common', '/app/dist/server'],
    );
    assert.doesNotMatch(runs(stage(name)), /build-essential|\bg\+\+|\bgcc\b|\bmake\b|python3/);
  }
});

for (const name of runtimes) {
  void test(`${name}: non-root, production env, port, healthcheck, init and entry`, () => {
    const s = stage(name);
    const user = last(s, 'USER').args;
    assert.ok(!['root', '0', '0:0'].includes(user), `USER ${user} is not root`);
    assert.equal(user, 'node');
    const env = envPairs(s);
    assert.equal(env.get('NODE_ENV'), 'production');
    assert.equal(env.get('PORT'), '8080');
    assert.match(last(s, 'EXPOSE').args, /\b8080\b/);
    const health = execForm(last(s, 'HEALTHCHECK').args);
    assert.deepEqual(health.slice(0, 2), ['node', '-e']);
    assert.match(health[2] ?? '', /\/healthz/);
    assert.deepEqual(execForm(last(s, 'ENTRYPOINT').args), ['/usr/bin/tini', '--']);
    assert.match(runs(s), /install[^\n]*\btini\b/);
    assert.deepEqual(execForm(last(s, 'CMD').args), ['node', 'dist/server/main.js']);
    assert.ok(
      s.instructions.some((i) => i.keyword === 'COPY' && /^models \.\/models$/.test(i.args)),
      'bundles models/',
    );
    assert.ok(
      s.instructions.some((i) => i.keyword === 'COPY' && /\bopenapi\.yaml\b/.test(i.args)),
      'ships openapi.yaml (read at startup)',
    );
    // USER must come after every COPY/RUN that writes files, so the code stays root-owned.
    const userIndex = s.instructions.findIndex((i) => i.keyword === 'USER');
    assert.ok(s.instructions.slice(userIndex).every((i) => i.keyword !== 'RUN' && i.keyword !== 'COPY'));
  });
}

void test('CMD runs what `npm run build` emits for server/main.ts', () => {
  const build = JSON.parse(readFileSync(join(root, 'tsconfig.build.json'), 'utf8')) as {
    compilerOptions: { outDir: string; rootDir: string };
    include: string[];
  };
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  assert.match(pkg.scripts.build ?? '', /tsc -p tsconfig\.build\.json/);
  assert.ok(build.include.includes('server'));
  const entry = execForm(last(stage('runtime-cpu'), 'CMD').args)[1]!;
  const source = posix.join(build.compilerOptions.rootDir, entry.slice(build.compilerOptions.outDir.length + 1)).replace(/\.js$/, '.ts');
  assert.equal(entry.startsWith(`${build.compilerOptions.outDir}/`), true);
  assert.ok(existsSync(join(root, source)), `${source} exists (compiled to ${entry})`);
  assert.match(pkg.scripts.start ?? '', new RegExp(source.replace('.', '\\.')));
  // Every folder tsc compiles is in the build context and copied into the build stage.
  const copied = stage('build')
    .instructions.filter((i) => i.keyword === 'COPY')
    .map((i) => i.args.split(/\s+/)[0]);
  for (const dir of build.include) assert.ok(copied.includes(dir), `build stage copies ${dir}/`);
  assert.match(runs(stage('build')), /cp -r server\/public dist\/server\/public/);
});

void test('every file `npm run build` compiles is copied into the build stage', () => {
  const tsc = join(root, 'node_modules/typescript/bin/tsc');
  const listed = execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--listFilesOnly'], { cwd: root, encoding: 'utf8' });
  const sources = listed
    .split('\n')
    .filter((f) => f.startsWith(root) && !f.includes('/node_modules/'))
    .map((f) => f.slice(root.length));
  assert.ok(sources.includes('server/main.ts'));
  const copied = new Set(
    stage('build')
      .instructions.filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from'))
      .map((i) => i.args.split(/\s+/)[0]),
  );
  const missing = sources.filter((f) => !copied.has(f.split('/')[0]));
  assert.deepEqual(missing, [], 'compiled files outside the folders the build stage copies (the Docker build would fail)');
  assert.ok(existsSync(join(root, 'models/model.schema.json')), 'models/ ships the model card schema the server validates against');
});

void test('.dockerignore keeps sources, lockfile, models and the page; drops the rest', () => {
  const patterns = readFileSync(join(root, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  for (const needed of ['**/node_modules', 'dist', '.git', 'tests']) assert.ok(patterns.includes(needed), `ignores ${needed}`);
  const copiedFromContext = dockerfile.stages
    .flatMap((s) => s.instructions)
    .filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from') && i.heredoc === null)
    .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
  for (const source of [...copiedFromContext, 'server/public']) {
    const top = source.split('/')[0]!;
    assert.ok(!patterns.includes(top) && !patterns.includes(source), `${source} is not ignored`);
    if (source !== 'models') assert.ok(existsSync(join(root, source)), `${source} exists in the context`);
  }
});

void test('the pruning script keeps only bin/napi-v6/linux/x64', () => {
  for (const name of ['prod-deps-cpu', 'prod-deps-cuda']) {
    assert.ok(
      stage(name).instructions.some((i) => i.keyword === 'COPY' && i.args.split(/\s+/).includes('scripts/prune-ort.sh')),
      `${name} copies scripts/prune-ort.sh`,
    );
    assert.match(runs(stage(name)), /&& sh prune-ort\.sh &&/);
  }
  const script = readFileSync(join(root, 'scripts/prune-ort.sh'), 'utf8');
  const dir = mkdtempSync(join(tmpdir(), 'prune-ort-'));
  try {
    const bin = join(dir, 'node_modules/onnxruntime-node/bin/napi-v6');
    for (const platform of ['linux/x64', 'linux/arm64', 'darwin/arm64', 'win32/x64']) {
      mkdirSync(join(bin, platform), { recursive: true });
      writeFileSync(join(bin, platform, 'onnxruntime_binding.node'), '');
    }
    writeFileSync(join(dir, 'prune.sh'), script);
    execFileSync('sh', ['prune.sh'], { cwd: dir });
    assert.deepEqual(readdirSync(bin), ['linux']);
    assert.deepEqual(readdirSync(join(bin, 'linux')), ['x64']);
    rmSync(join(bin, 'linux/x64/onnxruntime_binding.node'));
    assert.throws(() => execFileSync('sh', ['prune.sh'], { cwd: dir, stdio: 'ignore' }), 'fails when the binding is gone');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

async function healthcheckExit(status: number | null): Promise<number | null> {
  const server = createServer((req, res) => {
    res.statusCode = req.url === '/healthz' ? (status ?? 200) : 404;
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  if (status === null)
    await new Promise<void>((resolve) =>
      server.close(() => {
        resolve();
      }),
    );
  const [cmd, ...args] = execForm(last(stage('runtime-cpu'), 'HEALTHCHECK').args);
  const child = spawn(cmd === 'node' ? process.execPath : cmd!, args, { env: { PORT: String(port) }, stdio: 'ignore' });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (status !== null) server.close();
  return code;
}

void test('the HEALTHCHECK one-liner passes on 200 and fails on 503 or a closed port', async () => {
  assert.equal(await healthcheckExit(200), 0);
  assert.equal(await healthcheckExit(503), 1);
  assert.equal(await healthcheckExit(null), 1);
});
