// SPDX-License-Identifier: MIT
/** The in-memory graph: typed values with static shapes, nodes, attributes. No protobuf here. */

export const OPSET = 17;
export const IR_VERSION = 8;

export type DType = 'float32' | 'int64' | 'int32' | 'bool' | 'uint8';
export type Shape = readonly number[];

/** A tensor produced by a graph input, an initializer, a constant or a node output. */
export interface Value {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: Shape;
  /** The node that produced it, or null for graph inputs and initializers. */
  readonly producer: Node | null;
  /** Autodiff never walks into a value marked so (graph inputs declared `grad: false`, stopGradient). */
  readonly noGrad: boolean;
}

export type Attr =
  | { readonly type: 'float'; readonly value: number }
  | { readonly type: 'int'; readonly value: number }
  | { readonly type: 'floats'; readonly value: readonly number[] }
  | { readonly type: 'ints'; readonly value: readonly number[] }
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'tensor'; readonly value: TensorData };

export type Attrs = Readonly<Record<string, Attr>>;

export interface Node {
  readonly name: string;
  readonly opType: string;
  readonly inputs: readonly (Value | null)[];
  readonly outputs: readonly Value[];
  readonly attrs: Attrs;
}

export type TypedData = Float32Array | BigInt64Array | Int32Array | Uint8Array;

export interface TensorData {
  readonly dtype: DType;
  readonly shape: Shape;
  readonly data: TypedData;
}

export interface Initializer {
  readonly value: Value;
  readonly tensor: TensorData;
}

export interface Graph {
  readonly name: string;
  readonly inputs: readonly Value[];
  readonly outputs: readonly Value[];
  readonly initializers: readonly Initializer[];
  readonly nodes: readonly Node[];
}

export function numel(shape: Shape): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function shapeStr(shape: Shape): string {
  return `[${shape.join(',')}]`;
}

/** Attribute helpers: attributes are typed explicitly (a JS number cannot say INT vs FLOAT: alpha 1 vs 0.2). */
export const attr = {
  f: (value: number): Attr => ({ type: 'float', value }),
  i: (value: number): Attr => ({ type: 'int', value }),
  fs: (value: readonly number[]): Attr => ({ type: 'floats', value }),
  is: (value: readonly number[]): Attr => ({ type: 'ints', value }),
  s: (value: string): Attr => ({ type: 'string', value }),
};

export function intAttr(attrs: Attrs, name: string, fallback: number): number {
  const a = attrs[name];
  if (a === undefined) return fallback;
  if (a.type !== 'int') throw new Error(`attribute ${name} must be int`);
  return a.value;
}

export function floatAttr(attrs: Attrs, name: string, fallback: number): number {
  const a = attrs[name];
  if (a === undefined) return fallback;
  if (a.type !== 'float') throw new Error(`attribute ${name} must be float`);
  return a.value;
}

export function intsAttr(attrs: Attrs, name: string, fallback: readonly number[]): readonly number[] {
  const a = attrs[name];
  if (a === undefined) return fallback;
  if (a.type !== 'ints') throw new Error(`attribute ${name} must be ints`);
  return a.value;
}
