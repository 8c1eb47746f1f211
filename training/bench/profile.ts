// SPDX-License-Identifier: MIT
/**
 * @file ONNX Runtime's JSON profile (SessionOptions.profilePrefix) summarised per op type: kernel
 * milliseconds per step, share of all kernel time, useful GFLOP (from our graph's nodes by name) and
 * the rate against the MatMul ceiling. ORT names a kernel event `<node name>_kernel_time`; nodes ORT
 * created or fused (NCHWc reorders, FusedConv, …) keep their ORT op type and count no FLOPs of
 * ours unless the name still matches one of our nodes.
 *
 * API:
 *   kernelEvents(profileJson) → KernelEvent[]
 *   summariseProfile(events, graph, steps) → OpTypeRow[]  (sorted by time, descending; `graph` is
 *     the step before Conv stacking, whose nodes carry the useful FLOPs)
 *   profileTable(rows, ceilingGflops) → string            markdown
 */
import type { Graph, Node } from '../onnx/ir.ts';
import { nodeFlops, oneHotKernels, usefulFlops } from './flops.ts';

export interface KernelEvent {
  node: string;
  opType: string;
  /** Microseconds. */
  dur: number;
}

export interface OpTypeRow {
  opType: string;
  /** Kernel calls per step. */
  calls: number;
  msPerStep: number;
  /** Fraction of all kernel time. */
  share: number;
  /** Useful FLOPs per step of the nodes ORT ran under this op type (0 when none matched). */
  flops: number;
}

interface RawEvent {
  cat?: string;
  name?: string;
  dur?: number;
  args?: { op_name?: string };
}

const SUFFIX = '_kernel_time';
/**
 * Name tails appended to the node they rewrote: ORT's transformers (MatMul+Transpose fusion, NCHWc)
 * and ours (the Conv of a stacked batch, stack-conv.ts; its copies keep no FLOPs).
 */
const REWRITE_TAILS = [/\/MatmulTransposeFusion\/$/, /_out\d+_nchwc$/, /_nchwc$/, /\/stack\/Conv_\d+$/];

/** Our node behind an ORT kernel name: exact, or after removing a rewrite tail. */
function ourNode(name: string, byName: ReadonlyMap<string, Node>): Node | undefined {
  const exact = byName.get(name);
  if (exact) return exact;
  for (const tail of REWRITE_TAILS) {
    const hit = tail.test(name) ? byName.get(name.replace(tail, '')) : undefined;
    if (hit) return hit;
  }
  return undefined;
}

export function kernelEvents(profile: unknown): KernelEvent[] {
  if (!Array.isArray(profile)) throw new Error('ORT profile: expected a JSON array of events');
  return (profile as RawEvent[])
    .filter((e) => e.cat === 'Node' && typeof e.name === 'string' && e.name.endsWith(SUFFIX) && typeof e.dur === 'number')
    .map((e) => ({ node: e.name!.slice(0, -SUFFIX.length), opType: e.args?.op_name ?? '?', dur: e.dur! }));
}

/** Per-op-type totals divided by `steps` (the number of profiled session.run calls). */
export function summariseProfile(events: readonly KernelEvent[], graph: Graph, steps: number): OpTypeRow[] {
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  const oneHot = oneHotKernels(graph);
  const rows = new Map<string, OpTypeRow>();
  const total = events.reduce((a, e) => a + e.dur, 0);
  for (const e of events) {
    const node = ourNode(e.node, byName);
    const flops = node ? nodeFlops(node, oneHot) : null;
    // The one-hot im2col Convs are data movement: their own row, so Conv's rate is real convolution.
    const opType = flops?.category === 'im2col' ? `${e.opType} (one-hot im2col)` : e.opType;
    const row = rows.get(opType) ?? { opType, calls: 0, msPerStep: 0, share: 0, flops: 0 };
    row.calls += 1 / steps;
    row.msPerStep += e.dur / 1000 / steps;
    row.share += e.dur / total;
    if (flops) row.flops += usefulFlops(flops) / steps;
    rows.set(opType, row);
  }
  return [...rows.values()].sort((a, b) => b.msPerStep - a.msPerStep);
}

export function profileTable(rows: readonly OpTypeRow[], ceilingGflops: number): string {
  const head = [
    '| ORT op type | calls/step | ms/step | share of kernel time | useful GFLOP/step | GFLOP/s | % of MatMul ceiling |',
    '|---|---:|---:|---:|---:|---:|---:|',
  ];
  const lines = rows.map((r) => {
    const rate = r.flops > 0 ? r.flops / (r.msPerStep / 1000) / 1e9 : NaN;
    const rateText = Number.isFinite(rate) ? rate.toFixed(1) : '—';
    const pct = Number.isFinite(rate) ? `${((100 * rate) / ceilingGflops).toFixed(1)}%` : '—';
    return `| ${r.opType} | ${Math.round(r.calls)} | ${r.msPerStep.toFixed(1)} | ${(100 * r.share).toFixed(1)}% | ${(r.flops / 1e9).toFixed(2)} | ${rateText} | ${pct} |`;
  });
  return [...head, ...lines].join('\n');
}
