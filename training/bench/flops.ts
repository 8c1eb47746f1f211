// SPDX-License-Identifier: MIT
/**
 * @file FLOP count of a graph from its nodes and static shapes (no execution). One multiply-add
 * counts as 2 FLOPs:
 *   Conv           2·numel(Y)·(C/group)·Πk          = 2·N·M·OH·OW·C·k·k
 *   ConvTranspose  2·numel(X)·(M/group)·Πk          = 2·N·C·H·W·M·k·k (every input pixel scatters)
 *   MatMul         2·numel(Y)·K                      = 2·m·n·k per batch entry
 *   Gemm           2·m·n·k (+ m·n elementwise for C)
 * Elementwise ops ≈ 1 FLOP per output element (Sum of k inputs: k−1), reductions 1 per input
 * element, training-mode BatchNormalization 5 per element (mean, centre, square, scale, shift),
 * inference-mode 2. Pure data movement (Reshape, Transpose, Slice, …) is 0 FLOPs. Transcendentals
 * (Tanh, Sqrt) count 1 like the rest: the elementwise figure is an order of magnitude, not a cost.
 * A Conv whose weight is a constant one-hot kernel bank [Πk, 1, k…] (the im2col of a weight
 * gradient) only copies pixels: its multiply-adds are category 'im2col', reported on their own and
 * kept out of the useful totals.
 *
 * API:
 *   oneHotKernels(graph) → Set<Value>   constant weights that are one-hot kernel banks
 *   nodeFlops(node, oneHot?) → { category, flops, elementwise }
 *   usefulFlops(nodeFlops) → number     0 for 'im2col' and 'data'
 *   countFlops(graph) → FlopReport (totals per category, per op type, per scope)
 *   deadNodes(graph) → Node[]          nodes whose outputs reach no graph output (ORT runs them anyway)
 *   largestOutputs(graph, k) → Array<{ node, value, elements }>
 */
import { intAttr, numel } from '../onnx/ir.ts';
import type { Graph, Node, Value } from '../onnx/ir.ts';

export type FlopCategory = 'conv' | 'matmul' | 'elementwise' | 'im2col' | 'data';

export interface NodeFlops {
  category: FlopCategory;
  /** FLOPs of the node's main work (in `category`). */
  flops: number;
  /** Extra elementwise FLOPs folded into a conv/matmul node (bias add, Gemm's C). */
  elementwise: number;
}

export interface FlopReport {
  /** conv + matmul + elementwise (useful work; the one-hot im2col Convs are in byCategory.im2col). */
  total: number;
  /** conv + matmul: the dense work a BLAS-class kernel can run near peak. */
  dense: number;
  byCategory: Record<FlopCategory, number>;
  byOp: Record<string, { count: number; flops: number }>;
  /** By first name segment (`f_x`, `optim`, …); backward nodes by their first two (`backward/f_x`). */
  byScope: Record<string, number>;
  nodes: number;
  /** Op types not in any table, counted as 1 FLOP per output element. */
  unknownOps: string[];
}

const DATA_OPS = new Set([
  'Reshape',
  'Transpose',
  'Identity',
  'Expand',
  'Slice',
  'Concat',
  'Squeeze',
  'Unsqueeze',
  'Pad',
  'Shape',
  'Gather',
  'Constant',
  'Cast',
  'Flatten',
  'Split',
  'Tile',
]);
const ELEMENTWISE_OPS = new Set([
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Neg',
  'Abs',
  'Sign',
  'Relu',
  'LeakyRelu',
  'Tanh',
  'Sigmoid',
  'Sqrt',
  'Exp',
  'Log',
  'Reciprocal',
  'Pow',
  'Greater',
  'Less',
  'Equal',
  'Where',
  'Max',
  'Min',
  'Not',
  'And',
  'Or',
  'Clip',
  'Erf',
]);
const REDUCE_OPS = new Set(['ReduceMean', 'ReduceSum', 'ReduceMax', 'ReduceMin', 'ReduceSumSquare', 'ReduceL2']);

const elements = (v: Value | null | undefined): number => (v ? numel(v.shape) : 0);
const input = (node: Node, i: number): Value => {
  const v = node.inputs[i];
  if (!v) throw new Error(`${node.opType} ${node.name}: input ${i} is missing`);
  return v;
};
const output = (node: Node): Value => node.outputs[0]!;

/** Constant weights [T, 1, k…] with T = Πk whose channel j is 1 at tap j and 0 elsewhere. */
export function oneHotKernels(graph: Graph): Set<Value> {
  const found = new Set<Value>();
  for (const { value, tensor } of graph.initializers) {
    const [taps, one, ...kernel] = tensor.shape;
    if (tensor.dtype !== 'float32' || one !== 1 || kernel.length === 0 || taps !== numel(kernel)) continue;
    const isOneHot = tensor.data.every((v, i) => Number(v) === (Math.floor(i / taps) === i % taps ? 1 : 0));
    if (isOneHot) found.add(value);
  }
  return found;
}

function convFlops(node: Node, oneHot: ReadonlySet<Value>): NodeFlops {
  const w = input(node, 1);
  const perTap = w.shape[1]! * numel(w.shape.slice(2));
  // Conv: each output element reads C/g·Πk weights; ConvTranspose: each input element writes M/g·Πk.
  const driver = node.opType === 'Conv' ? output(node) : input(node, 0);
  const bias = node.inputs[2] ? elements(output(node)) : 0;
  const category = node.opType === 'Conv' && oneHot.has(w) ? 'im2col' : 'conv';
  return { category, flops: 2 * elements(driver) * perTap, elementwise: bias };
}

function matmulFlops(node: Node): NodeFlops {
  const a = input(node, 0);
  const k = a.shape[a.shape.length - 1] ?? 1;
  return { category: 'matmul', flops: 2 * elements(output(node)) * k, elementwise: 0 };
}

function gemmFlops(node: Node): NodeFlops {
  const a = input(node, 0);
  const k = intAttr(node.attrs, 'transA', 0) ? a.shape[0]! : a.shape[1]!;
  const y = elements(output(node));
  return { category: 'matmul', flops: 2 * y * k, elementwise: node.inputs[2] ? y : 0 };
}

const elementwise = (flops: number): NodeFlops => ({ category: 'elementwise', flops, elementwise: 0 });

function batchNormFlops(node: Node): NodeFlops {
  const perElement = intAttr(node.attrs, 'training_mode', 0) ? 5 : 2;
  return elementwise(perElement * elements(input(node, 0)));
}

const NO_ONE_HOT: ReadonlySet<Value> = new Set();

/** FLOPs of one node (see the file header for the conventions). */
export function nodeFlops(node: Node, oneHot: ReadonlySet<Value> = NO_ONE_HOT): NodeFlops {
  const op = node.opType;
  if (op === 'Conv' || op === 'ConvTranspose') return convFlops(node, oneHot);
  if (op === 'MatMul') return matmulFlops(node);
  if (op === 'Gemm') return gemmFlops(node);
  if (op === 'BatchNormalization') return batchNormFlops(node);
  if (DATA_OPS.has(op)) return { category: 'data', flops: 0, elementwise: 0 };
  if (REDUCE_OPS.has(op)) return elementwise(elements(input(node, 0)));
  if (op === 'Sum') return elementwise(Math.max(1, node.inputs.length - 1) * elements(output(node)));
  if (op === 'Dropout') return elementwise(2 * elements(output(node)));
  return elementwise(elements(output(node)));
}

/** FLOPs that count as work done: everything but data movement and one-hot im2col copies. */
export const usefulFlops = (f: NodeFlops): number => (f.category === 'im2col' || f.category === 'data' ? 0 : f.flops + f.elementwise);

const isKnown = (op: string): boolean =>
  ['Conv', 'ConvTranspose', 'MatMul', 'Gemm', 'BatchNormalization', 'Sum', 'Dropout'].includes(op) ||
  DATA_OPS.has(op) ||
  ELEMENTWISE_OPS.has(op) ||
  REDUCE_OPS.has(op);

/** `f_x/enc.0/Conv_0` → `f_x`; `backward/f_x/…` → `backward/f_x`; unscoped → `(root)`. */
export function scopeOf(nodeName: string): string {
  const parts = nodeName.split('/');
  if (parts.length === 1) return '(root)';
  return parts[0] === 'backward' && parts.length > 2 ? `${parts[0]}/${parts[1]!}` : parts[0]!;
}

export function countFlops(graph: Graph): FlopReport {
  const byCategory: Record<FlopCategory, number> = { conv: 0, matmul: 0, elementwise: 0, im2col: 0, data: 0 };
  const oneHot = oneHotKernels(graph);
  const byOp: Record<string, { count: number; flops: number }> = {};
  const byScope: Record<string, number> = {};
  const unknown = new Set<string>();
  for (const node of graph.nodes) {
    const f = nodeFlops(node, oneHot);
    byCategory[f.category] += f.flops;
    byCategory.elementwise += f.elementwise;
    const entry = (byOp[f.category === 'im2col' ? 'Conv(one-hot im2col)' : node.opType] ??= { count: 0, flops: 0 });
    entry.count += 1;
    entry.flops += usefulFlops(f);
    const scope = scopeOf(node.name);
    byScope[scope] = (byScope[scope] ?? 0) + usefulFlops(f);
    if (!isKnown(node.opType)) unknown.add(node.opType);
  }
  const dense = byCategory.conv + byCategory.matmul;
  return {
    total: dense + byCategory.elementwise,
    dense,
    byCategory,
    byOp,
    byScope,
    nodes: graph.nodes.length,
    unknownOps: [...unknown].sort(),
  };
}

/** Nodes none of whose outputs reaches a graph output (transitively). Nodes are in topological order. */
export function deadNodes(graph: Graph): Node[] {
  const live = new Set<Value>(graph.outputs);
  const dead: Node[] = [];
  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    const node = graph.nodes[i]!;
    if (!node.outputs.some((v) => live.has(v))) {
      dead.push(node);
      continue;
    }
    for (const v of node.inputs) if (v) live.add(v);
  }
  return dead.reverse();
}

export interface LargeOutput {
  node: Node;
  value: Value;
  elements: number;
}

/** The k largest node outputs by element count (memory-traffic suspects). */
export function largestOutputs(graph: Graph, k: number): LargeOutput[] {
  const all = graph.nodes.flatMap((node) => node.outputs.map((value) => ({ node, value, elements: elements(value) })));
  return all.sort((a, b) => b.elements - a.elements).slice(0, k);
}
