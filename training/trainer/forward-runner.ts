// SPDX-License-Identifier: MIT
/**
 * @file Runs the forward graph of f (ign/forward-graph.ts) with parameters taken from the trainer's
 * current state: f^1(x) … f^k(x) for sample grids during training and for export checks.
 */
import { numel } from '../onnx/ir.ts';
import { serialize } from '../onnx/serialize.ts';
import { createSession } from '../runtime/ort.ts';
import type { HostTensor, Session, SessionOptions } from '../runtime/ort.ts';
import { buildForwardGraph } from '../ign/forward-graph.ts';
import type { ForwardGraphSpec } from '../ign/forward-graph.ts';
import type { ParamDecl } from '../nn/params.ts';

export class ForwardRunner {
  private constructor(
    private readonly session: Session,
    private readonly spec: ForwardGraphSpec,
    private readonly decls: ParamDecl[],
  ) {}

  static async create(spec: ForwardGraphSpec, session: SessionOptions = {}): Promise<ForwardRunner> {
    const { graph, decls } = buildForwardGraph(spec);
    return new ForwardRunner(await createSession(serialize(graph), session), spec, decls);
  }

  /** [f^1(x), …, f^k(x)], each batch×C×H×W; `params` holds every parameter and buffer by name. */
  async run(x: Float32Array, params: Readonly<Record<string, Float32Array>>): Promise<Float32Array[]> {
    const shape = [this.spec.batch, ...this.spec.arch.imageShape];
    if (x.length !== numel(shape)) throw new Error(`forward input has ${x.length} values, expected [${shape.join(', ')}]`);
    const feeds: Record<string, HostTensor> = { x: { dtype: 'float32', shape, data: x } };
    for (const d of this.decls) {
      const data = params[d.name];
      if (!data) throw new Error(`no value for parameter ${d.name}`);
      feeds[d.name] = { dtype: 'float32', shape: d.shape, data };
    }
    const out = await this.session.run(feeds);
    return Array.from({ length: this.spec.applications }, (_, k) => out[`f${k + 1}`]!.data as Float32Array);
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
