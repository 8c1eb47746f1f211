// SPDX-License-Identifier: MIT
/**
 * @file The URL to start a worker thread on a module that sits beside the caller. A compiled build
 * (`dist/`) runs the `.js` file directly. Under tsx (source checkouts, `npm start`, tests) the
 * worker needs the tsx loader, but on Node 20 `execArgv: ['--import', 'tsx']` does not reach a
 * worker's module loader, so a data: URL bootstrap registers tsx's ESM hooks in the worker and then
 * imports the `.ts` file.
 */
export function workerEntry(callerUrl: string, baseName: string): URL {
  if (!callerUrl.endsWith('.ts')) return new URL(`./${baseName}.js`, callerUrl);
  const target = new URL(`./${baseName}.ts`, callerUrl).href;
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const code = `import { register } from ${JSON.stringify(tsxApi)}; register(); await import(${JSON.stringify(target)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(code)}`);
}
