// SPDX-License-Identifier: MIT
/**
 * @file GraphBuilder: the one way graphs are made. Like onnxscript's GraphBuilder it pins one opset,
 * names nodes deterministically inside scopes (`enc.0/Conv_12`), caches constants by (dtype, shape,
 * values), and infers dtype and static shape for every output at build time (shape.ts).
 */
import { numel, OPSET, shapeStr } from './ir.ts';
import type { Attrs, DType, Graph, Initializer, Node, Shape, TensorData, TypedData, Value } from './ir.ts';
import { ShapeError, shapeRules } from './shape.ts';

interface MutableValue extends Value {
  producer: Node | null;
}

export interface InputOptions {
  /** false: autodiff treats the input as a constant (frozen copies, data, noise). Default true for float32. */
  grad?: boolean;
}

export class GraphBuilder {
  readonly opset = OPSET;
  private readonly nodes: Node[] = [];
  private readonly inputs: Value[] = [];
  private readonly outputs: Value[] = [];
  private readonly initializers: Initializer[] = [];
  private readonly constants = new Map<string, Value>();
  private readonly constData = new Map<Value, TensorData>();
  private readonly names = new Set<string>();
  private readonly scopes: string[] = [];
  private counter = 0;

  constructor(readonly name: string) {}

  /** Run `fn` with node and value names prefixed by `name/` (nested scopes join with '/'). */
  scope<T>(name: string, fn: () => T): T {
    this.scopes.push(name);
    try {
      return fn();
    } finally {
      this.scopes.pop();
    }
  }

  private unique(base: string): string {
    const prefix = this.scopes.length > 0 ? `${this.scopes.join('/')}/` : '';
    let name = `${prefix}${base}`;
    if (this.names.has(name)) name = `${prefix}${base}_${this.counter++}`;
    if (this.names.has(name)) throw new Error(`duplicate value name ${name}`);
    this.names.add(name);
    return name;
  }

  private value(name: string, dtype: DType, shape: Shape, noGrad: boolean): MutableValue {
    return { name, dtype, shape: [...shape], producer: null, noGrad };
  }

  input(name: string, dtype: DType, shape: Shape, options: InputOptions = {}): Value {
    if (this.names.has(name)) throw new Error(`duplicate input name ${name}`);
    this.names.add(name);
    const grad = options.grad ?? dtype === 'float32';
    const v = this.value(name, dtype, shape, !grad);
    this.inputs.push(v);
    return v;
  }

  /** Weights baked into the graph (serving exports; never parameters of a training graph). */
  initializer(name: string, tensor: TensorData): Value {
    checkData(name, tensor);
    const v = this.value(this.unique(name), tensor.dtype, tensor.shape, true);
    this.initializers.push({ value: v, tensor });
    this.constData.set(v, tensor);
    return v;
  }

  /** A cached constant; `shape` defaults to a scalar for one value, else a 1-D tensor. */
  constant(values: readonly number[], dtype: DType = 'float32', shape?: Shape): Value {
    const dims = shape ?? (values.length === 1 ? [] : [values.length]);
    const key = `${dtype}|${dims.join(',')}|${values.join(',')}`;
    const hit = this.constants.get(key);
    if (hit) return hit;
    const tensor: TensorData = { dtype, shape: dims, data: typedFrom(values, dtype) };
    checkData('constant', tensor);
    const v = this.value(this.unique(`const_${this.constants.size}`), dtype, dims, true);
    this.initializers.push({ value: v, tensor });
    this.constants.set(key, v);
    this.constData.set(v, tensor);
    return v;
  }

  /** Integers of a constant value (Reshape shapes, Slice bounds, axes), or undefined. */
  constInts(v: Value): number[] | undefined {
    const t = this.constData.get(v);
    return t ? Array.from(t.data, Number) : undefined;
  }

  /** Emit a node; outputs get inferred dtypes and shapes. `outputs` sets how many are wired. */
  emit(opType: string, inputs: readonly (Value | null)[], attrs: Attrs = {}, outputs?: number): Value[] {
    const rule = shapeRules[opType];
    const nodeName = this.unique(`${opType}_${this.nodes.length}`);
    if (!rule) throw new ShapeError(`${nodeName}: no shape rule for op ${opType}`);
    const specs = rule({
      node: nodeName,
      inputs,
      attrs,
      constInts: (i) => {
        const v = inputs[i];
        const ints = v ? this.constInts(v) : undefined;
        if (!ints) throw new ShapeError(`${nodeName}: input ${i} must be a constant`);
        return ints;
      },
    });
    const count = outputs ?? specs.length;
    const outs = specs.slice(0, count).map((s, i) => this.value(`${nodeName}_out${i}`, s.dtype, s.shape, false));
    const node: Node = { name: nodeName, opType, inputs: [...inputs], outputs: outs, attrs };
    for (const o of outs) o.producer = node;
    this.nodes.push(node);
    return outs;
  }

  /** Single-output shorthand for emit. */
  op(opType: string, inputs: readonly (Value | null)[], attrs: Attrs = {}): Value {
    return this.emit(opType, inputs, attrs, 1)[0]!;
  }

  /** An Identity the backward walk never enters (ONNX has no StopGradient op). */
  stopGradient(x: Value): Value {
    const [y] = this.emit('Identity', [x]);
    const out = y as MutableValue;
    (out as { noGrad: boolean }).noGrad = true;
    return out;
  }

  /** Mark a value as a graph output, renaming it through an Identity when a name is given. */
  output(v: Value, name?: string): Value {
    let out = v;
    if (name !== undefined && name !== v.name) {
      if (this.names.has(name)) throw new Error(`duplicate output name ${name}`);
      out = this.op('Identity', [v]);
      (out as { name: string }).name = name;
      this.names.add(name);
    }
    this.outputs.push(out);
    return out;
  }

  build(): Graph {
    if (this.outputs.length === 0) throw new Error(`graph ${this.name} has no outputs`);
    return {
      name: this.name,
      inputs: [...this.inputs],
      outputs: [...this.outputs],
      initializers: [...this.initializers],
      nodes: [...this.nodes],
    };
  }

  /** Nodes emitted so far (autodiff walks them in reverse). */
  get nodeList(): readonly Node[] {
    return this.nodes;
  }
}

function typedFrom(values: readonly number[], dtype: DType): TypedData {
  switch (dtype) {
    case 'float32':
      return Float32Array.from(values);
    case 'int64':
      return BigInt64Array.from(values, (x) => BigInt(x));
    case 'int32':
      return Int32Array.from(values);
    case 'bool':
    case 'uint8':
      return Uint8Array.from(values);
  }
}

function checkData(name: string, t: TensorData): void {
  if (t.data.length !== numel(t.shape)) {
    throw new ShapeError(`${name}: ${t.data.length} values do not fill shape ${shapeStr(t.shape)}`);
  }
}
