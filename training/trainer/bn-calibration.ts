// SPDX-License-Identifier: MIT
/**
 * @file BatchNorm recalibration of an exported f: its running statistics are replaced by the
 * per-channel statistics f's own layers produce on the images it will serve.
 *
 * Why (docs/ign.md, "BatchNorm recalibration"): training normalises every application with its own
 * batch, while the running statistics it leaves behind average three distributions (x, z and f(z))
 * and, with EMA export, were accumulated by the raw weights rather than the exported average. The
 * served projector sees clean and corrupted images only; recalibrating on those (as PyTorch's
 * `update_bn` does after weight averaging) makes eval-mode f agree with what training taught.
 *
 * Method: one train-mode application of f per calibration batch, its buffers fed as zeros, so each
 * updated buffer is m·μ_b and m·σ²_b·M/(M−1) (batch-norm-op.ts, m = BN_MOMENTUM). The new running
 * statistics are the means over batches of μ_b and of the unbiased σ²_b (the same estimate
 * `update_bn` makes); every layer sees the normalisation of the layers before it as training did.
 * Only buffers change; weights are copied as they are.
 */
import { GraphBuilder } from '../onnx/builder.ts';
import { serialize } from '../onnx/serialize.ts';
import { numel } from '../onnx/ir.ts';
import { ParamSet } from '../nn/params.ts';
import { bufferUpdates, createContext } from '../nn/context.ts';
import { BN_MOMENTUM } from '../nn/layers.ts';
import { nextName } from '../nn/next.ts';
import { applyF, architecture } from '../ign/model.ts';
import { createSession } from '../runtime/ort.ts';
import type { HostTensor, SessionOptions } from '../runtime/ort.ts';
import type { ModelConfig } from '../config.ts';

export interface CalibrationResult {
  /** Every tensor of the input, with the BN running statistics replaced. */
  tensors: Record<string, Float32Array>;
  /** Names of the buffers that were recalibrated. */
  buffers: string[];
  batches: number;
}

/**
 * Recalibrates the BN running statistics of f (`model`, images `shape`) on `batches` batches of
 * `batch` images each, drawn in order from `nextBatch(i)` (batch×C×H×W in [-1, 1]; async when the
 * images are f's own samples).
 */
export async function calibrateBatchNorm(
  model: ModelConfig,
  shape: [number, number, number],
  tensors: Readonly<Record<string, Float32Array>>,
  source: { batch: number; batches: number; nextBatch: (index: number) => Float32Array | Promise<Float32Array> },
  session: SessionOptions = {},
): Promise<CalibrationResult> {
  if (model.norm !== 'batch') throw new Error(`only BatchNorm has running statistics to recalibrate (this f uses ${model.norm} norm)`);
  if (!Number.isInteger(source.batches) || source.batches < 1) throw new Error(`calibration needs ≥ 1 batch, got ${source.batches}`);
  const b = new GraphBuilder('ign_bn_calibration');
  const x = b.input('x', 'float32', [source.batch, ...shape], { grad: false });
  const params = new ParamSet(b, { trainable: false });
  const ctx = createContext(b, params, true);
  b.output(applyF(ctx, architecture(model, shape), model, x), 'y');
  const buffers = bufferUpdates(ctx).map((u) => {
    b.output(u.next, nextName(u.input.name));
    return u.input.name;
  });
  const decls = params.decls();
  const missing = decls.filter((d) => !tensors[d.name]).map((d) => d.name);
  if (missing.length > 0) throw new Error(`cannot recalibrate: no values for ${missing.slice(0, 4).join(', ')}`);
  const runner = await createSession(serialize(b.build()), session);
  const sums = new Map(buffers.map((name) => [name, new Float64Array(tensors[name]!.length)]));
  try {
    const feeds: Record<string, HostTensor> = {};
    for (const d of decls) {
      const data = buffers.includes(d.name) ? new Float32Array(tensors[d.name]!.length) : tensors[d.name]!;
      feeds[d.name] = { dtype: 'float32', shape: d.shape, data };
    }
    const fetch = buffers.map(nextName);
    for (let i = 0; i < source.batches; i++) {
      const data = await source.nextBatch(i);
      if (data.length !== numel(x.shape))
        throw new Error(`calibration batch ${i} has ${data.length} values, expected [${x.shape.join(', ')}]`);
      const out = await runner.run({ ...feeds, x: { dtype: 'float32', shape: x.shape, data } }, fetch);
      for (const name of buffers) {
        const scaled = out[nextName(name)]!.data as Float32Array;
        const sum = sums.get(name)!;
        for (let k = 0; k < sum.length; k++) sum[k]! += scaled[k]! / BN_MOMENTUM;
      }
    }
  } finally {
    await runner.release();
  }
  const result: Record<string, Float32Array> = { ...tensors };
  for (const [name, sum] of sums) result[name] = Float32Array.from(sum, (v) => v / source.batches);
  return { tensors: result, buffers, batches: source.batches };
}
