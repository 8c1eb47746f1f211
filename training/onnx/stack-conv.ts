// SPDX-License-Identifier: MIT
/**
 * @file Build-time graph pass: run a batched 2-D Conv as a few tall images instead of N small ones.
 *
 * Why. ONNX Runtime's CPU Conv with a weight that is not a constant (every Conv of a training step:
 * the weights are graph inputs updated by Adam) takes its generic path: per image, im2col then a
 * Gemm of [M, C·kh·kw] × [C·kh·kw, Ho·Wo]. At IGN's 7×7 outputs that Gemm has 49 columns and runs
 * at a third of the MatMul ceiling. Stacking the images of a chunk on top of each other, with the
 * vertical padding written between them, turns the chunk into one image whose Gemm has
 * (N/G)·R·Wo columns.
 *
 * The maths, per chunk of B = N/G images. Vertical stride s, kernel k, pads (p_t, p_b), H rows:
 * each image is padded to P = H + p_t + p_b rows and then to a multiple of s, Q = s·⌈P/s⌉ rows
 * (the extra rows are zeros no valid window reaches). In the stacked image, output row n·R + i
 * (R = Q/s) reads rows n·Q + i·s … n·Q + i·s + k − 1: exactly the rows output row i of image n
 * reads in its own padded image, for every valid i < Ho = ⌊(P − k)/s⌋ + 1 ≤ R. Rows i ≥ Ho of each
 * block straddle two images and are sliced away. The stacked Conv pads 0 rows on top and
 * max(0, k − s) at the bottom, so that it yields exactly B·R rows; columns keep the node's own
 * horizontal pads, strides and width. Only data movement changes: each output is the same sum of
 * the same products, so results equal the original Conv's up to how the Gemm blocks that sum.
 *
 *   X [N,C,H,W] → Reshape [G,B,C,H,W] → Transpose [G,C,B,H,W] → Pad rows (p_t, Q−H−p_t)
 *     → Reshape [G,C,B·Q,W] → Conv → [G,M,B·R,Wo] → Reshape [G,M,B,R,Wo] → Slice rows [0,Ho)
 *     → Transpose [G,B,M,Ho,Wo] → Reshape [N,M,Ho,Wo]
 *
 * Which Convs: 2-D, group 1, dilation 1, a weight that is not an initializer (constant weights get
 * ONNX Runtime's packed NCHWc kernels, already fast), batch ≥ 2, C·kh·kw ≥ MIN_DEPTH (below it the
 * Conv is memory-bound and stacking only adds copies) and kernels of at most MAX_KERNEL (a layer's
 * kernel, not a weight gradient's whole activation map used as one). G is the smallest divisor of N
 * whose chunk's im2col buffer stays under `maxChunkColumns` floats.
 *
 * API: stackConvBatches(graph, { maxChunkColumns? }) → { graph, stacked }
 */
import { attr, intAttr, intsAttr } from './ir.ts';
import type { Attrs, Graph, Initializer, Node, Value } from './ir.ts';

/** C·kh·kw below which stacking measured no faster (a 1-channel 4×4 Conv is memory-bound). */
export const MIN_DEPTH = 256;
/** Largest kernel side stacked (IGN's layers use 4; measured there). */
export const MAX_KERNEL = 8;
/** Default cap on one chunk's im2col buffer (C·kh·kw × B·R·Wo floats): 64 MiB. */
const MAX_CHUNK_COLUMNS = 1 << 24;

export interface StackConvOptions {
  maxChunkColumns?: number;
}

export interface StackConvResult {
  graph: Graph;
  /** Names of the Conv nodes now run on stacked images. */
  stacked: string[];
}

interface Plan {
  /** Input [n, c, h, w], weight [m, c, …kernel], the node's strides and pads ([top, left, bottom, right]). */
  n: number;
  c: number;
  h: number;
  w: number;
  m: number;
  kernel: readonly number[];
  strides: readonly number[];
  pads: readonly number[];
  groups: number;
  /** Rows of one image in the stack (Q) and output rows per block (R), valid rows (Ho). */
  blockRows: number;
  blockOut: number;
  validOut: number;
  outW: number;
}

/** The stacking plan for a Conv node, or null when the node is left as it is. */
function planStack(node: Node, constants: ReadonlySet<Value>, maxChunkColumns = MAX_CHUNK_COLUMNS): Plan | null {
  const [x, weight] = node.inputs;
  const y = node.outputs[0];
  if (node.opType !== 'Conv' || !x || !weight || !y || x.shape.length !== 4 || constants.has(weight)) return null;
  if (intAttr(node.attrs, 'group', 1) !== 1) return null;
  const autoPad = node.attrs.auto_pad;
  if (autoPad !== undefined && !(autoPad.type === 'string' && autoPad.value === 'NOTSET')) return null;
  if (intsAttr(node.attrs, 'dilations', [1, 1]).some((d) => d !== 1)) return null;
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const [m, , kh, kw] = weight.shape as [number, number, number, number];
  if (n < 2 || c * kh * kw < MIN_DEPTH || kh > MAX_KERNEL || kw > MAX_KERNEL) return null;
  const strides = intsAttr(node.attrs, 'strides', [1, 1]);
  const s = strides[0]!;
  const pads = intsAttr(node.attrs, 'pads', [0, 0, 0, 0]);
  const padded = h + pads[0]! + pads[2]!;
  const blockRows = s * Math.ceil(padded / s);
  const blockOut = blockRows / s;
  const [validOut, outW] = [y.shape[2]!, y.shape[3]!];
  if (validOut > blockOut) throw new Error(`${node.name}: ${validOut} output rows from blocks of ${blockOut}`);
  const columnsPerImage = c * kh * kw * blockOut * outW;
  let groups = 1;
  while (groups < n && (n % groups !== 0 || (n / groups) * columnsPerImage > maxChunkColumns)) groups++;
  if (groups === n) return null;
  return { n, c, h, w, m, kernel: [kh, kw], strides, pads, groups, blockRows, blockOut, validOut, outW };
}

export function stackConvBatches(graph: Graph, options: StackConvOptions = {}): StackConvResult {
  const constants = new Set(graph.initializers.map((i) => i.value));
  const initializers: Initializer[] = [...graph.initializers];
  const nodes: Node[] = [];
  const stacked: string[] = [];
  for (const node of graph.nodes) {
    const plan = planStack(node, constants, options.maxChunkColumns);
    if (!plan) {
      nodes.push(node);
      continue;
    }
    stacked.push(node.name);
    nodes.push(...rewrite(node, plan, initializers));
  }
  return { graph: { ...graph, nodes, initializers }, stacked };
}

function rewrite(node: Node, p: Plan, initializers: Initializer[]): Node[] {
  const base = `${node.name}/stack`;
  const out: Node[] = [];
  const b = p.n / p.groups;
  const int64 = (name: string, values: readonly number[]): Value => {
    const value: Value = { name: `${base}/${name}`, dtype: 'int64', shape: [values.length], producer: null, noGrad: true };
    initializers.push({ value, tensor: { dtype: 'int64', shape: [values.length], data: BigInt64Array.from(values, BigInt) } });
    return value;
  };
  const emit = (op: string, inputs: (Value | null)[], shape: readonly number[], attrs: Attrs = {}, target?: Value): Value => {
    const name = `${base}/${op}_${out.length}`;
    const value = target ?? { name: `${name}_out0`, dtype: 'float32', shape, producer: null, noGrad: false };
    const n: Node = { name, opType: op, inputs, outputs: [value], attrs };
    if (!target) (value as { producer: Node | null }).producer = n;
    out.push(n);
    return value;
  };
  const [x, weight, bias] = node.inputs as [Value, Value, Value | null | undefined];
  const { c, h, w, m, kernel, strides, pads, groups: g, blockRows: q, blockOut: r, validOut: ho, outW: wo } = p;
  const chunks = emit('Reshape', [x, int64('chunks', [g, b, c, h, w])], [g, b, c, h, w]);
  const channelsFirst = emit('Transpose', [chunks], [g, c, b, h, w], { perm: attr.is([0, 2, 1, 3, 4]) });
  const rowPads = [0, 0, 0, pads[0]!, 0, 0, 0, 0, q - h - pads[0]!, 0];
  const rowsPadded = q === h ? channelsFirst : emit('Pad', [channelsFirst, int64('row_pads', rowPads)], [g, c, b, q, w]);
  const tall = emit('Reshape', [rowsPadded, int64('tall', [g, c, b * q, w])], [g, c, b * q, w]);
  const convAttrs: Attrs = {
    kernel_shape: attr.is(kernel),
    strides: attr.is(strides),
    pads: attr.is([0, pads[1]!, Math.max(0, kernel[0]! - strides[0]!), pads[3]!]),
  };
  const convInputs = bias ? [tall, weight, bias] : [tall, weight];
  const tallOut = emit('Conv', convInputs, [g, m, b * r, wo], convAttrs);
  const blocks = emit('Reshape', [tallOut, int64('blocks', [g, m, b, r, wo])], [g, m, b, r, wo]);
  const valid =
    r === ho ? blocks : emit('Slice', [blocks, int64('starts', [0]), int64('ends', [ho]), int64('axes', [3])], [g, m, b, ho, wo]);
  const imagesFirst = emit('Transpose', [valid], [g, b, m, ho, wo], { perm: attr.is([0, 2, 1, 3, 4]) });
  const y = node.outputs[0]!;
  emit('Reshape', [imagesFirst, int64('images', y.shape)], y.shape, {}, y);
  (y as { producer: Node | null }).producer = out[out.length - 1]!;
  return out;
}
