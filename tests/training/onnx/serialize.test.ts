// SPDX-License-Identifier: MIT
// Our bytes against the two authorities: ONNX Runtime loads and runs them, and onnx.checker (full
// check, through Debian's python3-onnx when it is importable) accepts forward and training graphs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphBuilder } from '../../../training/onnx/builder.ts';
import { ops } from '../../../training/onnx/ops.ts';
import { decodeModel, serialize } from '../../../training/onnx/serialize.ts';
import { gradients } from '../../../training/autodiff/backward.ts';
import { createSession } from '../../../training/runtime/ort.ts';
import { feed } from '../../support/gradcheck.ts';
import { skipUnlessAvailable } from '../../support/required-tool.ts';

/** y = LeakyRelu(Gemm(x, W, b, transB), 0.2); with `train`, also L = mean(y²) and dL/dW, dL/db. */
function gemmGraph(train: boolean): GraphBuilder {
  const b = new GraphBuilder(train ? 'gemm_train' : 'gemm');
  const o = ops(b);
  const x = b.input('x', 'float32', [2, 3], { grad: false });
  const w = b.input('w', 'float32', [4, 3]);
  const bias = b.input('b', 'float32', [4]);
  const y = o.leakyRelu(o.gemm(x, w, bias, { transB: true }), 0.2);
  b.output(y, 'y');
  if (train) {
    const loss = o.reduceMean(o.mul(y, y), [0, 1], false);
    const [dw, db] = gradients(b, loss, [w, bias]);
    b.output(loss, 'loss');
    b.output(dw!, 'dw');
    b.output(db!, 'db');
  }
  return b;
}

/** Most gradient rules in one graph (shape ops, batched MatMul, Where, Dropout, Pow, reductions). */
function zooGraph(): GraphBuilder {
  const b = new GraphBuilder('zoo');
  const o = ops(b);
  const x = b.input('x', 'float32', [2, 3, 4]);
  const w = b.input('w', 'float32', [4, 5]);
  const sliced = o.pad(o.slice(x, [0, 1], [3, 4], [1, 2], [2, 2]), [0, 1, 0, 0, 0, 1]);
  const joined = o.concat([o.transpose(sliced, [0, 2, 1]), o.squeeze(o.unsqueeze(sliced, [0]), [0])], 1);
  const h = o.matmul(o.reshape(o.expand(x, [2, 2, 3, 4]), [4, 3, 4]), w);
  const [d] = o.dropout(o.sigmoid(h), 0.1, 3);
  const r = o.where(o.greater(h, 0), o.pow(d, 2), o.div(o.sqrt(o.exp(h)), o.add(o.abs(h), 1)));
  const loss = o.add(o.reduceSum(r, [], false), o.reduceMean(o.log(o.add(o.mul(joined, joined), 1)), [0, 1, 2], false));
  const [dx, dw] = gradients(b, loss, [x, w]);
  b.output(loss, 'loss');
  b.output(dx!, 'dx');
  b.output(dw!, 'dw');
  return b;
}

void test('ORT runs the training graph of an op zoo and returns finite gradients of the right shapes', async () => {
  const session = await createSession(serialize(zooGraph().build()), { threads: 1 });
  try {
    const x = Array.from({ length: 24 }, (_, i) => Math.sin(i));
    const w = Array.from({ length: 20 }, (_, i) => Math.cos(i) / 2);
    const out = await session.run({ x: feed([2, 3, 4], x), w: feed([4, 5], w) });
    assert.deepEqual([...out.dx!.shape], [2, 3, 4]);
    assert.deepEqual([...out.dw!.shape], [4, 5]);
    for (const t of [out.loss!, out.dx!, out.dw!]) assert.ok((t.data as Float32Array).every(Number.isFinite));
  } finally {
    await session.release();
  }
});

void test('ORT loads the bytes and computes Gemm + LeakyRelu(alpha as FLOAT)', async () => {
  const session = await createSession(serialize(gemmGraph(false).build()), { threads: 1 });
  try {
    const out = await session.run({
      x: feed([2, 3], [1, 0, 0, 0, 1, -1]),
      w: feed([4, 3], [1, 0, 0, 0, 1, 0, 0, 0, 1, -1, -1, -1]),
      b: feed([4], [0, 0, 0, 0.5]),
    });
    assert.deepEqual([...out.y!.shape], [2, 4]);
    const y = Array.from(out.y!.data as Float32Array);
    const expected = [1, 0, 0, -0.1, 0, 1, -0.2, 0.5];
    y.forEach((v, i) => {
      assert.ok(Math.abs(v - expected[i]!) < 1e-6, `y[${i}] = ${v}`);
    });
  } finally {
    await session.release();
  }
});

void test('decoded bytes carry opset 17, the op types, metadata and the dynamic batch axis', () => {
  const bytes = serialize(gemmGraph(false).build(), { dynamicBatch: true, metadata: { seed: '7' } });
  const model = decodeModel(bytes) as {
    opset_import: { version: number }[];
    metadata_props: { key: string; value: string }[];
    graph: { node: { op_type: string }[]; input: { type: { tensor_type: { shape: { dim: object[] } } } }[] };
  };
  assert.equal(model.opset_import[0]!.version, 17);
  assert.deepEqual(
    model.graph.node.map((n) => n.op_type),
    ['Gemm', 'LeakyRelu', 'Identity'],
  );
  assert.deepEqual(model.metadata_props, [{ key: 'seed', value: '7' }]);
  assert.deepEqual(model.graph.input[0]!.type.tensor_type.shape.dim[0], { dim_param: 'N' });
});

const pythonHasOnnx = spawnSync('/usr/bin/python3', ['-c', 'import onnx'], { stdio: 'ignore' }).status === 0;

void test(
  'onnx.checker (full_check) accepts forward and training graphs',
  {
    skip: skipUnlessAvailable(
      pythonHasOnnx ? null : 'python3-onnx is not importable by /usr/bin/python3 (apt-get install -y python3-onnx)',
    ),
  },
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'onnx-check-'));
    try {
      const graphs = { forward: gemmGraph(false), train: gemmGraph(true), zoo: zooGraph() };
      const paths = Object.entries(graphs).map(([name, b]) => {
        const path = join(dir, `${name}.onnx`);
        writeFileSync(path, serialize(b.build()));
        return path;
      });
      const script = 'import onnx, sys\nfor p in sys.argv[1:]: onnx.checker.check_model(onnx.load(p), full_check=True)\nprint("ok")';
      assert.equal(execFileSync('/usr/bin/python3', ['-c', script, ...paths], { encoding: 'utf8' }).trim(), 'ok');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
