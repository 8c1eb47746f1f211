// SPDX-License-Identifier: MIT
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GraphBuilder } from '../../../training/onnx/builder.ts';
import { numel } from '../../../training/onnx/ir.ts';
import type { Shape, Value } from '../../../training/onnx/ir.ts';
import { ops } from '../../../training/onnx/ops.ts';
import type { ConvOptions } from '../../../training/onnx/ops.ts';
import { gradients } from '../../../training/autodiff/backward.ts';
import { chooseWeightGrad, unusedRows, weightGradDilated, weightGradIm2col } from '../../../training/autodiff/rules/conv.ts';
import type { ConvGeometry } from '../../../training/autodiff/rules/conv.ts';
import { Rng } from '../../../common/rng.ts';
import { feed, gradcheck, runGraph } from '../../support/gradcheck.ts';

interface Case {
  name: string;
  x: [number, number, number, number];
  /** Conv: M output channels; ConvTranspose: Co. */
  out: number;
  k: [number, number];
  s: [number, number];
  p: [number, number, number, number];
  d: [number, number];
  op?: [number, number];
}

const CONV_CASES: Case[] = [
  { name: 'k3 s1 p1 5x5', x: [2, 2, 5, 5], out: 3, k: [3, 3], s: [1, 1], p: [1, 1, 1, 1], d: [1, 1] },
  { name: 'k3 s2 p1 7x7 (r=0)', x: [2, 2, 7, 7], out: 2, k: [3, 3], s: [2, 2], p: [1, 1, 1, 1], d: [1, 1] },
  { name: 'k3 s2 p1 8x8 (r=1)', x: [2, 2, 8, 8], out: 2, k: [3, 3], s: [2, 2], p: [1, 1, 1, 1], d: [1, 1] },
  { name: 'k4 s2 p1 7x7 (r=1, sliced dW)', x: [2, 1, 7, 7], out: 2, k: [4, 4], s: [2, 2], p: [1, 1, 1, 1], d: [1, 1] },
  { name: 'k4 s3 p0 12x12 (r=2)', x: [1, 2, 12, 12], out: 2, k: [4, 4], s: [3, 3], p: [0, 0, 0, 0], d: [1, 1] },
  { name: 'asymmetric pads 7x6', x: [2, 2, 7, 6], out: 2, k: [3, 3], s: [2, 2], p: [0, 1, 1, 0], d: [1, 1] },
  { name: 'k2x3 s(2,1) d(2,1) 7x5', x: [2, 2, 7, 5], out: 2, k: [2, 3], s: [2, 1], p: [1, 0, 0, 1], d: [2, 1] },
  { name: '1x1', x: [2, 3, 4, 4], out: 2, k: [1, 1], s: [1, 1], p: [0, 0, 0, 0], d: [1, 1] },
  { name: 'k5 on 5x5 → 1x1 (latent layer, single-Gemm dW)', x: [3, 2, 5, 5], out: 4, k: [5, 5], s: [1, 1], p: [0, 0, 0, 0], d: [1, 1] },
];

const CONVT_CASES: Case[] = [
  { name: 'k4 s2 p1 3x3', x: [2, 2, 3, 3], out: 2, k: [4, 4], s: [2, 2], p: [1, 1, 1, 1], d: [1, 1] },
  { name: 'k3 s2 p1 op1 3x3', x: [2, 2, 3, 3], out: 2, k: [3, 3], s: [2, 2], p: [1, 1, 1, 1], d: [1, 1], op: [1, 1] },
  { name: 'k4 s3 p1 op2 2x2', x: [2, 2, 2, 2], out: 3, k: [4, 4], s: [3, 3], p: [1, 1, 1, 1], d: [1, 1], op: [2, 2] },
  { name: 'k3 s2 p0 d2 op1 3x3', x: [1, 2, 3, 3], out: 2, k: [3, 3], s: [2, 2], p: [0, 0, 0, 0], d: [2, 2], op: [1, 1] },
  { name: 'asymmetric pads op(1,0) 3x4', x: [2, 2, 3, 4], out: 2, k: [3, 3], s: [2, 2], p: [1, 0, 0, 1], d: [1, 1], op: [1, 0] },
  { name: 'k5 from 1x1 (latent layer, single-Gemm dW)', x: [3, 4, 1, 1], out: 2, k: [5, 5], s: [1, 1], p: [0, 0, 0, 0], d: [1, 1] },
];

const options = (c: Case): ConvOptions => ({ strides: c.s, pads: c.p, dilations: c.d, ...(c.op ? { outputPadding: c.op } : {}) });
const geometry = (c: Case): ConvGeometry => ({ kernel: c.k, strides: c.s, pads: c.p, dilations: c.d, outputPadding: c.op ?? [0, 0] });
const weightShape = (c: Case, kind: 'conv' | 'convT'): Shape => (kind === 'conv' ? [c.out, c.x[1], ...c.k] : [c.x[1], c.out, ...c.k]);

function forward(b: GraphBuilder, c: Case, kind: 'conv' | 'convT', [x, w, bias]: Value[]): Value {
  const o = ops(b);
  return kind === 'conv' ? o.conv(x!, w!, bias ?? null, options(c)) : o.convTranspose(x!, w!, bias ?? null, options(c));
}

for (const kind of ['conv', 'convT'] as const) {
  for (const c of kind === 'conv' ? CONV_CASES : CONVT_CASES) {
    void test(`${kind} ${c.name}: dX, dW, dB match central differences`, async () => {
      const report = await gradcheck({
        inputs: [
          { name: 'x', shape: c.x },
          { name: 'w', shape: weightShape(c, kind), init: (rng) => 0.5 * rng.normal() },
          { name: 'bias', shape: [c.out] },
        ],
        build: (b, xs) => forward(b, c, kind, xs),
        atol: 2e-3,
      });
      assert.ok(report.checked > 0);
    });
  }
}

void test('conv on 1-D input (generic spatial rank): central differences', async () => {
  await gradcheck({
    inputs: [
      { name: 'x', shape: [2, 2, 9] },
      { name: 'w', shape: [3, 2, 3] },
    ],
    build: (b, [x, w]) => ops(b).conv(x!, w!, null, { strides: [2], pads: [1, 0], dilations: [2] }),
  });
});

/** dW by definition, float64: Conv dW[m,c,i,j] = Σ dY[n,m,oh,ow]·X[n,c,oh·s+i·d−p, …]; ConvT swaps X/dY roles. */
function referenceWeightGrad(kind: 'conv' | 'convT', c: Case, x: Float32Array, dy: Float32Array, dyShape: Shape): Float64Array {
  const [n, ci, h, w] = c.x;
  const [, co, oh, ow] = dyShape as [number, number, number, number];
  const [kh, kw] = c.k;
  const out = new Float64Array(ci * co * kh * kw);
  // Conv: "small" grid = dY (oh, ow), sampled grid = X (h, w); ConvT: small grid = X, sampled = dY.
  const [sh, sw, bh, bw] = kind === 'conv' ? [oh, ow, h, w] : [h, w, oh, ow];
  for (let b = 0; b < n; b++)
    for (let a = 0; a < ci; a++)
      for (let m = 0; m < co; m++) {
        for (let i = 0; i < kh; i++)
          for (let j = 0; j < kw; j++) {
            let acc = 0;
            for (let u = 0; u < sh; u++)
              for (let v = 0; v < sw; v++) {
                const r = u * c.s[0] + i * c.d[0] - c.p[0];
                const q = v * c.s[1] + j * c.d[1] - c.p[1];
                if (r < 0 || q < 0 || r >= bh || q >= bw) continue;
                const xv = kind === 'conv' ? x[((b * ci + a) * h + r) * w + q]! : x[((b * ci + a) * h + u) * w + v]!;
                const gv = kind === 'conv' ? dy[((b * co + m) * oh + u) * ow + v]! : dy[((b * co + m) * oh + r) * ow + q]!;
                acc += xv * gv;
              }
            // Conv weight [M,C,k,k]; ConvT weight [Ci,Co,k,k]
            const idx = kind === 'conv' ? ((m * ci + a) * kh + i) * kw + j : ((a * co + m) * kh + i) * kw + j;
            out[idx]! += acc;
          }
      }
  return out;
}

function maxRelError(actual: Float32Array, expected: Float64Array): number {
  let err = 0;
  let scale = 0;
  expected.forEach((e, i) => {
    err = Math.max(err, Math.abs(actual[i]! - e));
    scale = Math.max(scale, Math.abs(e));
  });
  return err / scale;
}

for (const kind of ['conv', 'convT'] as const) {
  void test(`${kind}: both weight-gradient formulations equal the definition on every geometry`, async () => {
    const rng = new Rng(7);
    for (const c of kind === 'conv' ? CONV_CASES : CONVT_CASES) {
      const b = new GraphBuilder('dw');
      const o = ops(b);
      const x = b.input('x', 'float32', c.x);
      const w = b.input('w', 'float32', weightShape(c, kind));
      const y = forward(b, c, kind, [x, w]);
      const dy = b.input('dy', 'float32', y.shape, { grad: false });
      const [sampled, other] = kind === 'conv' ? [x, dy] : [dy, x];
      const viaRule = gradients(b, o.reduceSum(o.mul(y, dy), [], false), [w])[0]!;
      const outs = [weightGradIm2col(o, sampled, other, geometry(c)), weightGradDilated(o, sampled, other, geometry(c)), viaRule];
      const xData = rng.fillNormal(new Float32Array(numel(c.x)));
      const dyData = rng.fillNormal(new Float32Array(numel(y.shape)));
      const wData = rng.fillNormal(new Float32Array(numel(w.shape)));
      const got = await runGraph(b, outs, { x: feed(c.x, [...xData]), w: feed(w.shape, [...wData]), dy: feed(y.shape, [...dyData]) });
      const expected = referenceWeightGrad(kind, c, xData, dyData, y.shape);
      for (const [k, label] of ['im2col', 'dilated', 'rule'].entries()) {
        assert.deepEqual(got[k]!.shape, w.shape, `${c.name} ${label} shape`);
        const err = maxRelError(got[k]!.data as Float32Array, expected);
        assert.ok(err < 1e-5, `${kind} ${c.name} ${label}: relative error ${err}`);
      }
    }
  });
}

void test('1x1 identity kernel: dX is the output gradient and dW is Σ dY·X, exactly', async () => {
  const b = new GraphBuilder('identity');
  const o = ops(b);
  const x = b.input('x', 'float32', [1, 2, 2, 2]);
  const w = b.input('w', 'float32', [2, 2, 1, 1]);
  const g = b.input('g', 'float32', [1, 2, 2, 2], { grad: false });
  const loss = o.reduceSum(o.mul(o.conv(x, w, null), g), [], false);
  const [dx, dw] = gradients(b, loss, [x, w]);
  const xs = [1, 2, 3, 4, 5, 6, 7, 8];
  const gs = [0.5, -1, 2, 0, 1, 1, -2, 3];
  const [gx, gw] = await runGraph(b, [dx!, dw!], { x: feed(x.shape, xs), w: feed(w.shape, [1, 0, 0, 1]), g: feed(g.shape, gs) });
  assert.deepEqual([...gx!.data], gs);
  // dW[m,c] = Σ_pixels g[m]·x[c]: m=0 → g0·x0 = 0.5−2+6+0 = 4.5, g0·x1 = 2.5−6+14+0 = 10.5; m=1 → 1+2−6+12 = 9, 5+6−14+24 = 21
  assert.deepEqual([...gw!.data], [4.5, 10.5, 9, 21]);
});

void test('output_padding r is the count of rows the forward windows never reach', () => {
  const g = (k: number, s: number, p: number): ConvGeometry => ({
    kernel: [k],
    strides: [s],
    pads: [p, p],
    dilations: [1],
    outputPadding: [0],
  });
  assert.deepEqual(unusedRows(g(3, 2, 1), [7]), [0]);
  assert.deepEqual(unusedRows(g(3, 2, 1), [8]), [1]);
  assert.deepEqual(unusedRows(g(4, 3, 0), [12]), [2]);
});

void test('the im2col formulation is chosen for IGN-size layers, the dilated one for tiny and huge ones', () => {
  const b = new GraphBuilder('choice');
  const k4: ConvGeometry = { kernel: [4, 4], strides: [2, 2], pads: [1, 1, 1, 1], dilations: [1, 1], outputPadding: [0, 0] };
  const v = (shape: Shape) => b.input(`v${shape.join('x')}`, 'float32', shape);
  assert.equal(chooseWeightGrad(v([64, 64, 14, 14]), v([64, 128, 7, 7]), k4), 'im2col');
  assert.equal(chooseWeightGrad(v([4, 1, 12, 12]), v([4, 8, 6, 6]), k4), 'dilated');
  assert.equal(chooseWeightGrad(v([4096, 64, 28, 28]), v([4096, 64, 14, 14]), k4), 'dilated');
});

void test('grouped convolution is refused with a clear message', () => {
  const b = new GraphBuilder('group');
  const o = ops(b);
  const x = b.input('x', 'float32', [1, 4, 5, 5]);
  const w = b.input('w', 'float32', [4, 2, 3, 3]);
  const loss = o.reduceSum(o.conv(x, w, null, { group: 2 }), [], false);
  assert.throws(() => gradients(b, loss, [w]), /group > 1\) is unsupported/);
});
