// SPDX-License-Identifier: MIT
/**
 * @file Gradient rules of Conv and ConvTranspose (group = 1, any spatial rank, explicit pads) in
 * standard opset-17 ops (docs/autodiff.md, "Formulations per op" and "ORT traps"). Notation per spatial axis: k kernel,
 * s stride, d dilation, p = (p_begin, p_end), r = (H + p_begin + p_end − d(k−1) − 1) mod s, the
 * trailing rows the forward Conv never reads. Xᵀ swaps the first two axes ([N,C,…] → [C,N,…]).
 *
 * Two weight-gradient formulations, chosen per layer shape by `chooseWeightGrad`:
 *  'dilated' (A): dW = Slice(Conv(Xᵀ, dYᵀ, strides=d, dilations=s, pads=p), [k])ᵀ — one Conv.
 *  'im2col' (B2): cols = Conv(X as [N·C,1,…], one-hot [k·k,1,k…]) → [N, C·k·k, L]; then
 *                 dW = dY as [M, N·L] times (cols as [C·k·k, N·L])ᵀ, one Gemm over N and L.
 *                 1.6–3.5× faster than A at IGN sizes but materialises an N·C·k²·L buffer.
 */
import { intAttr, intsAttr, numel, shapeStr } from '../../onnx/ir.ts';
import type { Attrs, Value } from '../../onnx/ir.ts';
import type { Ops } from '../../onnx/ops.ts';
import { AutodiffError } from '../rule.ts';
import type { GradContext, GradRule } from '../rule.ts';

/** Static geometry of one Conv/ConvTranspose node; arrays are per spatial axis. */
export interface ConvGeometry {
  readonly kernel: readonly number[];
  readonly strides: readonly number[];
  readonly dilations: readonly number[];
  /** ONNX layout: all begins, then all ends. */
  readonly pads: readonly number[];
  readonly outputPadding: readonly number[];
}

export type WeightGradKind = 'dilated' | 'im2col';

/** Below this many im2col elements both formulations are within measurement noise: keep the single Conv. */
const IM2COL_MIN_ELEMENTS = 1 << 15;
/** Above this (256 MiB of float32) the im2col buffer costs more memory than the speed is worth. */
const IM2COL_MAX_ELEMENTS = 1 << 26;

const fill = (n: number, v: number): number[] => new Array<number>(n).fill(v);

export function convGeometry(node: { readonly opType: string; readonly name: string }, attrs: Attrs, w: Value): ConvGeometry {
  const spatial = w.shape.length - 2;
  if (intAttr(attrs, 'group', 1) !== 1) {
    throw new AutodiffError(`${node.opType} ${node.name}: gradient of grouped convolution (group > 1) is unsupported`);
  }
  const autoPad = attrs.auto_pad;
  if (autoPad !== undefined && !(autoPad.type === 'string' && autoPad.value === 'NOTSET')) {
    throw new AutodiffError(`${node.opType} ${node.name}: auto_pad is unsupported; emit explicit pads`);
  }
  if (attrs.output_shape !== undefined) {
    throw new AutodiffError(
      `${node.opType} ${node.name}: output_shape is unsupported (it shifts pixels at stride 3; use pads + output_padding)`,
    );
  }
  return {
    kernel: intsAttr(attrs, 'kernel_shape', w.shape.slice(2)),
    strides: intsAttr(attrs, 'strides', fill(spatial, 1)),
    dilations: intsAttr(attrs, 'dilations', fill(spatial, 1)),
    pads: intsAttr(attrs, 'pads', fill(2 * spatial, 0)),
    outputPadding: intsAttr(attrs, 'output_padding', fill(spatial, 0)),
  };
}

/** r per axis for a Conv reading `input` spatial sizes: rows past the last window. */
export function unusedRows(g: ConvGeometry, input: readonly number[]): number[] {
  const n = g.kernel.length;
  return input.map((h, i) => {
    const span = h + g.pads[i]! + g.pads[i + n]! - g.dilations[i]! * (g.kernel[i]! - 1) - 1;
    return span % g.strides[i]!;
  });
}

/** Size of the im2col buffer the 'im2col' formulation would materialise for a Conv on `x`. */
function im2colElements(x: Value, dyConvLike: Value, g: ConvGeometry): number {
  return x.shape[0]! * x.shape[1]! * numel(g.kernel) * numel(dyConvLike.shape.slice(2));
}

/**
 * 'im2col' for mid-size layers, 'dilated' for tiny ones (noise either way) and for buffers above
 * 256 MiB. `sampled` is the tensor im2col reads (Conv: X; ConvTranspose: dY), `other` the other one.
 */
export function chooseWeightGrad(sampled: Value, other: Value, g: ConvGeometry): WeightGradKind {
  const elements = im2colElements(sampled, other, g);
  return elements >= IM2COL_MIN_ELEMENTS && elements <= IM2COL_MAX_ELEMENTS ? 'im2col' : 'dilated';
}

const swap01 = (rank: number): number[] => [1, 0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2)];

/**
 * A: Conv(aᵀ as input, bᵀ as weight, strides=d, dilations=s, pads=p) → [a₁, b₁, k′…] with
 * k′ = k + ⌊extra/d⌋; Slice to k and swap the first two axes → [b₁, a₁, k…].
 * For Conv: a = X, b = dY gives dW [M,C,k…]; for ConvTranspose: a = dY, b = X gives [Ci,Co,k…].
 */
export function weightGradDilated(o: Ops, a: Value, b: Value, g: ConvGeometry): Value {
  const rank = a.shape.length;
  const n = rank - 2;
  const corr = o.conv(o.transpose(a, swap01(rank)), o.transpose(b, swap01(rank)), null, {
    strides: g.dilations,
    dilations: g.strides,
    pads: g.pads,
  });
  const axes = Array.from({ length: n }, (_, i) => i + 2);
  const needsSlice = corr.shape.slice(2).some((d, i) => d !== g.kernel[i]);
  const sliced = needsSlice ? o.slice(corr, fill(n, 0), g.kernel, axes) : corr;
  return o.transpose(sliced, swap01(rank));
}

/** One-hot kernels [Πk, 1, k…]: output channel j copies the input pixel under kernel tap j. */
function oneHotKernels(o: Ops, kernel: readonly number[]): Value {
  const taps = numel(kernel);
  const data = new Array<number>(taps * taps).fill(0);
  for (let j = 0; j < taps; j++) data[j * taps + j] = 1;
  return o.b.constant(data, 'float32', [taps, 1, ...kernel]);
}

/** cols [N, C·Πk, L]: every input channel unfolded by the forward window geometry. */
function im2col(o: Ops, x: Value, g: ConvGeometry): Value {
  const [n, c] = [x.shape[0]!, x.shape[1]!];
  const perChannel = o.reshape(x, [n * c, 1, ...x.shape.slice(2)]);
  const cols = o.conv(perChannel, oneHotKernels(o, g.kernel), null, {
    strides: g.strides,
    pads: g.pads,
    dilations: g.dilations,
  });
  return o.reshape(cols, [n, c * numel(g.kernel), numel(cols.shape.slice(2))]);
}

/**
 * B2: cols = im2col(sampled) [N, P·Πk, L], other [N, Q, L…] → Σ_{n,l} other[n,q,l]·cols[n,p·k,l]
 * = [Q, P·Πk], reshaped to [Q, P, k…]. Conv: sampled = X, other = dY → dW [M,C,k…];
 * ConvTranspose: sampled = dY, other = X → [Ci,Co,k…].
 */
export function weightGradIm2col(o: Ops, sampled: Value, other: Value, g: ConvGeometry): Value {
  const cols = im2col(o, sampled, g);
  const [n, q] = [other.shape[0]!, other.shape[1]!];
  const length = numel(other.shape.slice(2));
  if (cols.shape[2] !== length) {
    throw new AutodiffError(`im2col length ${shapeStr(cols.shape)} does not match ${shapeStr(other.shape)}`);
  }
  if (length === 1) {
    // One output position (the k7 latent layers): the batched product would be an N·C·k²·q outer
    // product summed over N; one Gemm contracts N directly: dWᵀ = colsᵀ·dY, [C·k², N]·[N, q].
    const flat = o.gemm(o.reshape(cols, [n, cols.shape[1]!]), o.reshape(other, [n, q]), null, { transA: true });
    return o.reshape(o.transpose(flat, [1, 0]), [q, sampled.shape[1]!, ...g.kernel]);
  }
  // Contract N and L in one Gemm: dW[q, p·k] = Σ_{n,l} other[n,q,l]·cols[n,p·k,l]. Both operands are
  // brought to [rows, N·L] by one Transpose each (cols: N·P·Πk·L elements); the batched alternative
  // (Σ_n cols_n·other_nᵀ) writes and re-reads an N·P·Πk·Q product before reducing over N.
  const colsByRow = o.reshape(o.transpose(cols, [1, 0, 2]), [cols.shape[1]!, n * length]);
  const otherByRow = o.reshape(o.transpose(o.reshape(other, [n, q, length]), [1, 0, 2]), [q, n * length]);
  const flat = o.gemm(otherByRow, colsByRow, null, { transB: true });
  return o.reshape(flat, [q, sampled.shape[1]!, ...g.kernel]);
}

/** Conv: sampled = X, other = dY; ConvTranspose: sampled = dY, other = X (see both emitters). */
function weightGrad(o: Ops, sampled: Value, other: Value, g: ConvGeometry): Value {
  return chooseWeightGrad(sampled, other, g) === 'im2col'
    ? weightGradIm2col(o, sampled, other, g)
    : weightGradDilated(o, sampled, other, g);
}

const biasGrad = (c: GradContext, dy: Value): Value =>
  c.o.reduceSum(
    dy,
    dy.shape.map((_, i) => i).filter((i) => i !== 1),
    false,
  );

export const convRules: Readonly<Record<string, GradRule>> = {
  // dX = ConvTranspose(dY, W, s, p, d, output_padding = r)  (never output_shape: docs/autodiff.md, "ORT traps")
  // dW[m,c,i] = Σ_n,o dY[n,m,o]·Xpad[n,c,o·s + i·d]  (A or B2, see file header)
  // dB = Σ_{n,spatial} dY
  Conv: (c) => {
    const [x, w, dy] = [c.I(0), c.I(1), c.GO(0)];
    const g = convGeometry(c.node, c.attrs, w);
    const dx = c.needs(0)
      ? c.o.convTranspose(dy, w, null, {
          strides: g.strides,
          pads: g.pads,
          dilations: g.dilations,
          outputPadding: unusedRows(g, x.shape.slice(2)),
        })
      : null;
    const dw = c.needs(1) ? weightGrad(c.o, x, dy, g) : null;
    const db = c.node.inputs[2] && c.needs(2) ? biasGrad(c, dy) : null;
    return c.node.inputs.length > 2 ? [dx, dw, db] : [dx, dw];
  },
  // Y[n,co,o] = Σ X[n,ci,h]·W[ci,co,i] with o + p_begin = h·s + i·d (output_padding adds rows at the end)
  // dX = Conv(dY, W, s, p, d)  (output length is exactly H because output_padding < s)
  // dW[ci,co,i] = Σ_n,h X[n,ci,h]·dYpad[n,co,h·s + i·d]  (A: k′ = k + ⌊op/d⌋, sliced; or B2)
  // dB = Σ_{n,spatial} dY
  ConvTranspose: (c) => {
    const [x, w, dy] = [c.I(0), c.I(1), c.GO(0)];
    const g = convGeometry(c.node, c.attrs, w);
    const dx = c.needs(0) ? c.o.conv(dy, w, null, { strides: g.strides, pads: g.pads, dilations: g.dilations }) : null;
    const dw = c.needs(1) ? weightGrad(c.o, dy, x, g) : null;
    const db = c.node.inputs[2] && c.needs(2) ? biasGrad(c, dy) : null;
    return c.node.inputs.length > 2 ? [dx, dw, db] : [dx, dw];
  },
};
