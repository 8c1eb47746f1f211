// SPDX-License-Identifier: MIT
/**
 * @file Graph → ONNX ModelProto bytes. The only module importing protobufjs; the
 * schema is the vendored subset in onnx-proto.ts, so any ONNX IR version can be targeted.
 */
import protobuf from 'protobufjs';
import { IR_VERSION } from './ir.ts';
import type { Attr, DType, Graph, TensorData, Value } from './ir.ts';
import { ONNX_PROTO } from './onnx-proto.ts';

const root = protobuf.parse(ONNX_PROTO, { keepCase: true }).root;
const ModelProto = root.lookupType('onnx.ModelProto');

const ONNX_DTYPE: Record<DType, number> = { float32: 1, uint8: 2, int32: 6, int64: 7, bool: 9 };
const ATTR_TYPE = { float: 1, int: 2, string: 3, tensor: 4, floats: 6, ints: 7 } as const;

export interface SerializeOptions {
  /** Name the first axis of every graph input and output 'N' (dynamic batch for serving). */
  dynamicBatch?: boolean;
  metadata?: Readonly<Record<string, string>>;
  producerVersion?: string;
  docString?: string;
}

function tensorProto(name: string, t: TensorData): object {
  const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  return { name, dims: [...t.shape], data_type: ONNX_DTYPE[t.dtype], raw_data: bytes };
}

function attrProto(name: string, a: Attr): object {
  const base = { name, type: ATTR_TYPE[a.type] };
  switch (a.type) {
    case 'float':
      return { ...base, f: a.value };
    case 'int':
      return { ...base, i: a.value };
    case 'floats':
      return { ...base, floats: [...a.value] };
    case 'ints':
      return { ...base, ints: [...a.value] };
    case 'string':
      return { ...base, s: new TextEncoder().encode(a.value) };
    case 'tensor':
      return { ...base, t: tensorProto(name, a.value) };
  }
}

function valueInfo(v: Value, dynamicBatch: boolean): object {
  const dim = v.shape.map((d, i) => (dynamicBatch && i === 0 ? { dim_param: 'N' } : { dim_value: d }));
  return { name: v.name, type: { tensor_type: { elem_type: ONNX_DTYPE[v.dtype], shape: { dim } } } };
}

function toModelProto(graph: Graph, options: SerializeOptions = {}): object {
  const dyn = options.dynamicBatch ?? false;
  return {
    ir_version: IR_VERSION,
    opset_import: [{ domain: '', version: 17 }],
    producer_name: 'ign-toolkit',
    producer_version: options.producerVersion ?? '0.1.0',
    doc_string: options.docString ?? '',
    metadata_props: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
    graph: {
      name: graph.name,
      node: graph.nodes.map((n) => ({
        name: n.name,
        op_type: n.opType,
        domain: '',
        input: n.inputs.map((v) => v?.name ?? ''),
        output: n.outputs.map((v) => v.name),
        attribute: Object.entries(n.attrs).map(([k, a]) => attrProto(k, a)),
      })),
      initializer: graph.initializers.map((i) => tensorProto(i.value.name, i.tensor)),
      input: graph.inputs.map((v) => valueInfo(v, dyn)),
      output: graph.outputs.map((v) => valueInfo(v, dyn)),
    },
  };
}

export function serialize(graph: Graph, options: SerializeOptions = {}): Uint8Array {
  const message = ModelProto.fromObject(toModelProto(graph, options));
  return ModelProto.encode(message).finish();
}

/** Decode bytes back to a plain object (tests and tooling: op-type lists, metadata). */
export function decodeModel(bytes: Uint8Array): Record<string, unknown> {
  return ModelProto.toObject(ModelProto.decode(bytes), { longs: Number, bytes: Array, defaults: false });
}

/** The float32 initializers of ONNX bytes written by `serialize` (raw_data), by name. */
export function readFloatInitializers(bytes: Uint8Array): Record<string, Float32Array> {
  const model = ModelProto.decode(bytes) as unknown as {
    graph?: { initializer?: { name: string; data_type: number; raw_data?: Uint8Array; float_data?: number[] }[] };
  };
  const out: Record<string, Float32Array> = {};
  for (const t of model.graph?.initializer ?? []) {
    if (t.data_type !== ONNX_DTYPE.float32) continue;
    if (t.raw_data && t.raw_data.length > 0) {
      const copy = new Uint8Array(t.raw_data);
      out[t.name] = new Float32Array(copy.buffer, copy.byteOffset, copy.byteLength / 4);
    } else {
      out[t.name] = Float32Array.from(t.float_data ?? []);
    }
  }
  return out;
}
