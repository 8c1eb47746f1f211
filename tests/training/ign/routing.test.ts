// SPDX-License-Identifier: MIT
/**
 * Gradient routing of the IGN objective (docs/ign.md, "Objective"), checked against central finite
 * differences computed on the host. The analytic gradients come from the real training-step graph
 * (grad.* outputs). The finite differences come from loss-only graphs in which each application of
 * f reads its own parameter set, so perturbing one set moves exactly one application:
 *   - L_idem's gradient equals the derivative through the inner f(z) only (outer = frozen copy);
 *   - L_tight's gradient equals the derivative through the outer f only (inner is stop-gradient);
 * and in both cases the excluded path has a clearly non-zero derivative, so a mis-routing fails.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GraphBuilder } from '../../../training/onnx/builder.ts';
import type { Value } from '../../../training/onnx/ir.ts';
import { numel } from '../../../training/onnx/ir.ts';
import { ops } from '../../../training/onnx/ops.ts';
import { serialize } from '../../../training/onnx/serialize.ts';
import { createSession } from '../../../training/runtime/ort.ts';
import type { HostTensor, Session } from '../../../training/runtime/ort.ts';
import { ParamSet } from '../../../training/nn/params.ts';
import type { ParamDecl } from '../../../training/nn/params.ts';
import { createContext } from '../../../training/nn/context.ts';
import { Rng } from '../../../common/rng.ts';
import { resolveConfig } from '../../../training/config.ts';
import type { LossConfig } from '../../../training/config.ts';
import { architecture, applyF } from '../../../training/ign/model.ts';
import { emitIgnLosses } from '../../../training/ign/losses.ts';
import type { Applications } from '../../../training/ign/losses.ts';
import { buildStepGraph } from '../../../training/ign/train-graph.ts';
import { maxAbsDiff } from '../../support/max-abs-diff.ts';

const N = 2;
const SHAPE = [1, 4, 4] as const;
const config = resolveConfig({ model: { arch: 'tiny', norm: 'none', width: 2 }, batch: N });
const arch = architecture(config.model, SHAPE);
const l2 = (weights: LossConfig['weights']): LossConfig => ({
  distance: 'l2',
  weights,
  clamp: false,
  clampA: 1.5,
  clampNormalizer: 'rec_z_detached',
});

type Role = keyof Applications;
/** Parameter-set prefix per application role. */
type Routing = Record<Role, string>;

interface LossGraph {
  session: Session;
  decls: ParamDecl[];
  prefixes: string[];
}

/** A graph computing the objective where each role reads parameters `${prefix}name`. */
async function lossGraph(routing: Routing, loss: LossConfig): Promise<LossGraph> {
  const b = new GraphBuilder('routing');
  const x = b.input('x', 'float32', [N, ...SHAPE], { grad: false });
  const z = b.input('z', 'float32', [N, ...SHAPE], { grad: false });
  const prefixes = [...new Set(Object.values(routing))];
  const sets = new Map(prefixes.map((p) => [p, createContext(b, new ParamSet(b, { prefix: p, trainable: false }), true)]));
  const role =
    (r: Role) =>
    (input: Value): Value =>
      applyF(sets.get(routing[r])!, arch, config.model, input);
  const l = emitIgnLosses(
    b,
    ops(b),
    x,
    z,
    { fx: role('fx'), fz: role('fz'), tightOuter: role('tightOuter'), idemOuter: role('idemOuter') },
    loss,
  );
  b.output(l.total, 'total');
  const session = await createSession(serialize(b.build()));
  return { session, decls: sets.get(prefixes[0]!)!.params.decls(), prefixes };
}

const t = (shape: readonly number[], data: Float32Array): HostTensor => ({ dtype: 'float32', shape, data });

function randomTensors(decls: readonly ParamDecl[], rng: Rng): Map<string, Float32Array> {
  return new Map(decls.map((d) => [d.name, rng.fillNormal(new Float32Array(numel(d.shape)), 0, 0.6)]));
}

/** d total / d θ where only the parameter set `perturbed` moves; every set holds the same θ. */
async function finiteDifference(
  g: LossGraph,
  theta: Map<string, Float32Array>,
  io: Record<string, HostTensor>,
  perturbed: string,
): Promise<Map<string, Float32Array>> {
  const eps = 1e-2;
  const feeds = (override: Map<string, Float32Array>): Record<string, HostTensor> => {
    const f: Record<string, HostTensor> = { ...io };
    for (const p of g.prefixes) for (const d of g.decls) f[`${p}${d.name}`] = t(d.shape, (p === perturbed ? override : theta).get(d.name)!);
    return f;
  };
  const out = new Map<string, Float32Array>();
  for (const d of g.decls) {
    const grad = new Float32Array(numel(d.shape));
    for (let i = 0; i < grad.length; i++) {
      const at = async (delta: number): Promise<number> => {
        const moved = new Map(theta);
        const v = Float32Array.from(theta.get(d.name)!);
        v[i] = v[i]! + delta;
        moved.set(d.name, v);
        return Number((await g.session.run(feeds(moved))).total!.data[0]);
      };
      grad[i] = ((await at(eps)) - (await at(-eps))) / (2 * eps);
    }
    out.set(d.name, grad);
  }
  return out;
}

/** grad.* outputs of the real step graph for the given loss weights. */
async function analyticGradients(
  loss: LossConfig,
  theta: Map<string, Float32Array>,
  io: Record<string, HostTensor>,
): Promise<Map<string, Float32Array>> {
  const sg = buildStepGraph({ arch, model: config.model, loss, optim: config.optim, batch: N }, { outputGradients: true });
  const session = await createSession(serialize(sg.graph));
  const feeds: Record<string, HostTensor> = { ...io };
  for (const v of sg.graph.inputs) {
    if (feeds[v.name]) continue;
    const source = theta.get(v.name.replace(/^frozen\./, ''));
    feeds[v.name] = t(v.shape, source ?? new Float32Array(numel(v.shape)).fill(v.name.endsWith('bc2s') ? 1 : 0));
  }
  const out = await session.run(feeds);
  assert.ok(!Object.keys(out).some((k) => k.startsWith('frozen.')), 'no output updates the frozen copy');
  return new Map(sg.decls.map((d) => [d.name, out[`grad.${d.name}`]!.data as Float32Array]));
}

/** Largest |Δ| over every named gradient, and the largest magnitude on either side (the scale). */
function gradientDiff(a: Map<string, Float32Array>, b: Map<string, Float32Array>): { diff: number; scale: number } {
  let diff = 0;
  let scale = 0;
  for (const [name, av] of a) {
    const bv = b.get(name)!;
    diff = Math.max(diff, maxAbsDiff(av, bv));
    for (const v of [...av, ...bv]) scale = Math.max(scale, Math.abs(v));
  }
  return { diff, scale };
}

async function setup(seed: number): Promise<{ theta: Map<string, Float32Array>; io: Record<string, HostTensor> }> {
  const rng = new Rng(seed);
  const probe = await lossGraph({ fx: '', fz: '', tightOuter: '', idemOuter: '' }, l2({ rec: 1, idem: 0, tight: 0 }));
  const theta = randomTensors(probe.decls, rng);
  const image = (): HostTensor => t([N, ...SHAPE], rng.fillUniform(new Float32Array(N * 16), -1, 1));
  return { theta, io: { x: image(), z: image() } };
}

void test('L_idem gradient flows only through the inner f(z), never the frozen outer copy', async () => {
  const { theta, io } = await setup(11);
  const loss = l2({ rec: 0, idem: 1, tight: 0 });
  const analytic = await analyticGradients(loss, theta, io);
  const g = await lossGraph({ fx: 'a.', fz: 'inner.', tightOuter: 'a.', idemOuter: 'outer.' }, loss);
  const inner = await finiteDifference(g, theta, io, 'inner.');
  const outer = await finiteDifference(g, theta, io, 'outer.');
  const match = gradientDiff(analytic, inner);
  assert.ok(match.scale > 1e-3, `gradient too small to test (${match.scale})`);
  assert.ok(match.diff < 2e-3 * Math.max(1, match.scale), `analytic vs inner-only FD: ${match.diff} (scale ${match.scale})`);
  const excluded = gradientDiff(outer, new Map([...outer].map(([k, v]) => [k, new Float32Array(v.length)])));
  assert.ok(excluded.diff > 50 * match.diff, `the outer path must matter (|d|=${excluded.diff}) for this test to discriminate`);
});

void test('L_tight gradient flows only through the outer f; the inner f(z) is stop-gradient', async () => {
  const { theta, io } = await setup(12);
  const loss = l2({ rec: 0, idem: 0, tight: 1 });
  const analytic = await analyticGradients(loss, theta, io);
  const g = await lossGraph({ fx: 'a.', fz: 'inner.', tightOuter: 'outer.', idemOuter: 'a.' }, loss);
  const outer = await finiteDifference(g, theta, io, 'outer.');
  const inner = await finiteDifference(g, theta, io, 'inner.');
  const match = gradientDiff(analytic, outer);
  assert.ok(match.scale > 1e-3, `gradient too small to test (${match.scale})`);
  assert.ok(match.diff < 2e-3 * Math.max(1, match.scale), `analytic vs outer-only FD: ${match.diff} (scale ${match.scale})`);
  const excluded = gradientDiff(inner, new Map([...inner].map(([k, v]) => [k, new Float32Array(v.length)])));
  assert.ok(excluded.diff > 50 * match.diff, `the inner path must matter (|d|=${excluded.diff}) for this test to discriminate`);
});

void test('L_rec gradient equals the full derivative of D(f(x), x)', async () => {
  const { theta, io } = await setup(13);
  const loss = l2({ rec: 1, idem: 0, tight: 0 });
  const analytic = await analyticGradients(loss, theta, io);
  const g = await lossGraph({ fx: 'a.', fz: 'b.', tightOuter: 'b.', idemOuter: 'b.' }, loss);
  const fd = await finiteDifference(g, theta, io, 'a.');
  const match = gradientDiff(analytic, fd);
  assert.ok(match.diff < 2e-3 * Math.max(1, match.scale), `analytic vs FD: ${match.diff} (scale ${match.scale})`);
});
