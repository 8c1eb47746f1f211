// SPDX-License-Identifier: MIT
/**
 * @file `npm run ablation-table -- <label>=<models dir> …`: one markdown row per evaluated model
 * (its evaluation.json from `npm run evaluate`) with the benchmark's headline numbers, so an
 * ablation table is printed from the runs themselves. scripts/ablations.sh makes the runs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

interface Family {
  id: string;
  accuracy: { input: number; median: number; f1: number; f2: number };
  frechet: { input: number; f1: number };
}
interface Evaluation {
  classifier: { frechet: { k1: number; k2: number }; histograms: { k1: { fractions: number[]; meanConfidence: number } } };
  benchmark: { families: Family[]; cleanIdempotencePsnr: number };
  targets: { pass: boolean }[];
}

const pct = (v: number): string => (100 * v).toFixed(1);

function row(label: string, e: Evaluation): string {
  const fam = (id: string): Family => {
    const f = e.benchmark.families.find((x) => x.id === id);
    if (!f) throw new Error(`${label}: no benchmark family ${id}`);
    return f;
  };
  const user = e.benchmark.families.filter((f) => f.id.startsWith('user-'));
  const h = e.classifier.histograms.k1;
  const cells = [
    label,
    e.classifier.frechet.k1.toFixed(1),
    e.classifier.frechet.k2.toFixed(1),
    pct(Math.min(...h.fractions)),
    h.meanConfidence.toFixed(3),
    pct(fam('clean').accuracy.f1),
    e.benchmark.cleanIdempotencePsnr.toFixed(1),
    `${pct(fam('noise-0.5').accuracy.f1)} (${fam('noise-0.5').frechet.f1.toFixed(0)})`,
    pct(fam('impulse-0.2').accuracy.f1),
    pct(fam('occlusion-13').accuracy.f1),
    pct(fam('blur').accuracy.f1),
    pct(Math.min(...user.map((f) => f.accuracy.f1))),
    `${e.targets.filter((t) => t.pass).length}/${e.targets.length}`,
  ];
  return `| ${cells.join(' | ')} |`;
}

const args = process.argv.slice(2);
if (args.length === 0 || args.some((a) => !a.includes('='))) {
  console.error('usage: npm run ablation-table -- <label>=<models dir> [<label>=<models dir> …]');
  process.exit(2);
}
console.log(
  '| run | FD f¹ | FD f² | rarest class % | confidence | clean acc f(x) | PSNR(f²(x), f(x)) dB | σ = 0.5 acc f (FD f) | s&p 20 % acc f | occl. 13 acc f | blur acc f | user-style min acc f | targets |',
);
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const arg of args) {
  const at = arg.indexOf('=');
  const label = arg.slice(0, at);
  const dir = arg.slice(at + 1);
  try {
    console.log(row(label, JSON.parse(readFileSync(join(dir, 'evaluation.json'), 'utf8')) as Evaluation));
  } catch (err) {
    console.error(`ablation-table: ${label}: ${(err as Error).message}`);
    process.exit(2);
  }
}
