// SPDX-License-Identifier: MIT
/**
 * @file The practical compute ceiling of this machine for ONNX Runtime: one large square MatMul
 * (2·n³ FLOPs) in a session with the same thread settings as training. Inputs are graph inputs, so
 * nothing is constant-folded.
 *
 * API:
 *   MatMulCeiling.create(n, threads) → MatMulCeiling
 *   ceiling.measure(repeats) → Promise<number>   best GFLOP/s over `repeats` runs
 *   ceiling.release()
 */
import { Rng } from '../../common/rng.ts';
import { GraphBuilder } from '../onnx/builder.ts';
import { ops } from '../onnx/ops.ts';
import { serialize } from '../onnx/serialize.ts';
import { createSession } from '../runtime/ort.ts';
import type { HostTensor, Session } from '../runtime/ort.ts';

export class MatMulCeiling {
  private constructor(
    private readonly session: Session,
    private readonly feeds: Record<string, HostTensor>,
    readonly n: number,
  ) {}

  static async create(n: number, threads: number): Promise<MatMulCeiling> {
    const b = new GraphBuilder('matmul_ceiling');
    const a = b.input('a', 'float32', [n, n], { grad: false });
    const w = b.input('b', 'float32', [n, n], { grad: false });
    b.output(ops(b).matmul(a, w), 'c');
    const session = await createSession(serialize(b.build()), { ep: 'cpu', threads });
    const rng = new Rng(1);
    const tensor = (): HostTensor => {
      const data = new Float32Array(n * n);
      rng.fillNormal(data, 0, 1);
      return { dtype: 'float32', shape: [n, n], data };
    };
    return new MatMulCeiling(session, { a: tensor(), b: tensor() }, n);
  }

  get flops(): number {
    return 2 * this.n ** 3;
  }

  async measure(repeats: number): Promise<number> {
    let best = Infinity;
    for (let i = 0; i < repeats; i++) {
      const t0 = performance.now();
      await this.session.run(this.feeds);
      best = Math.min(best, (performance.now() - t0) / 1000);
    }
    return this.flops / best / 1e9;
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
