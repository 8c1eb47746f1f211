// SPDX-License-Identifier: MIT
/**
 * @file The Open Inference Protocol's JSON inference request, checked against one served model.
 * The protocol's request is `{id?, parameters?, inputs: [{name, shape, datatype, data}], outputs?}`
 * with `data` in row-major order, flat or nested. Everything a client can get wrong is a 400 with
 * a message that says what: the tensor name, datatype, shape, element count, non-finite values,
 * a batch over the limit, an unknown output, a bad `steps`. JSON has no NaN, but 1e999 parses to
 * Infinity, so finiteness is checked on every element.
 */
import { badRequest } from '../errors.ts';
import type { ServedModel } from '../model-set.ts';

export interface InferLimits {
  /** Largest batch N one request may send. */
  readonly maxBatch: number;
  readonly maxSteps: number;
}

export interface InferPlan {
  readonly id: string | undefined;
  readonly input: Float32Array;
  readonly count: number;
  readonly steps: number;
  /** Output tensor names to answer, in the order asked. */
  readonly outputs: readonly string[];
}

const fail = (message: string): never => {
  throw badRequest('invalid_infer_request', message);
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Copies `data` (flat or nested to any depth) into `out` in row-major order; returns the count written. */
function flatten(data: unknown, out: Float32Array, offset: number, depth: number): number {
  if (!Array.isArray(data)) return fail('input data must be an array of numbers (flat or nested)');
  if (depth > 8) return fail('input data is nested deeper than the tensor rank');
  let n = offset;
  for (const item of data) {
    if (typeof item === 'number') {
      if (!Number.isFinite(item)) fail('input data must be finite numbers (no NaN or Infinity)');
      if (n >= out.length) fail(`input data has more elements than its shape [${out.length} expected]`);
      out[n++] = item;
    } else if (Array.isArray(item)) {
      n = flatten(item, out, n, depth + 1);
    } else {
      fail('input data must contain only numbers');
    }
  }
  return n;
}

function parseShape(shape: unknown, served: ServedModel, limits: InferLimits): number {
  const [c, h, w] = served.shape;
  if (!Array.isArray(shape) || shape.length !== 4 || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    return fail(`input shape must be [N, ${c}, ${h}, ${w}] with N ≥ 1`);
  }
  const [n, ...rest] = shape as number[];
  if (rest[0] !== c || rest[1] !== h || rest[2] !== w) fail(`input shape must be [N, ${c}, ${h}, ${w}], got [${shape.join(', ')}]`);
  if (n! < 1 || n! > limits.maxBatch) fail(`batch size N must be in [1, ${limits.maxBatch}], got ${n}`);
  return n!;
}

function parseSteps(parameters: unknown, limits: InferLimits): number {
  if (parameters === undefined) return 1;
  if (!isObject(parameters)) return fail('parameters must be an object');
  const steps = parameters.steps;
  if (steps === undefined) return 1;
  if (typeof steps !== 'number' || !Number.isSafeInteger(steps) || steps < 1 || steps > limits.maxSteps) {
    fail(`parameters.steps must be an integer in [1, ${limits.maxSteps}]`);
  }
  return steps as number;
}

function parseOutputs(outputs: unknown, outputName: string): string[] {
  if (outputs === undefined) return [outputName];
  if (!Array.isArray(outputs) || outputs.length === 0) return fail('outputs must be a non-empty array of {"name": ...}');
  return outputs.map((o: unknown) => {
    if (!isObject(o) || typeof o.name !== 'string') return fail('each output must be {"name": string}');
    if (o.name !== outputName) fail(`unknown output "${o.name.slice(0, 64)}"; this model has "${outputName}"`);
    return o.name;
  });
}

/** Validates a parsed JSON body against `served`; throws a 400 HttpError on the first problem. */
export function parseInferRequest(body: unknown, served: ServedModel, limits: InferLimits): InferPlan {
  if (!isObject(body)) return fail('the body must be a JSON object');
  const { card } = served.model;
  const id = body.id;
  if (id !== undefined && typeof id !== 'string') fail('id must be a string');
  const { inputs } = body;
  if (!Array.isArray(inputs) || inputs.length !== 1) return fail(`inputs must hold exactly one tensor, "${card.input.name}"`);
  const tensor: unknown = inputs[0];
  if (!isObject(tensor)) return fail('each input must be an object');
  if (tensor.name !== card.input.name) {
    fail(`unknown input "${String(tensor.name).slice(0, 64)}"; this model takes "${card.input.name}"`);
  }
  if (tensor.datatype !== 'FP32') {
    const got = typeof tensor.datatype === 'string' ? tensor.datatype.slice(0, 32) : typeof tensor.datatype;
    fail(`input datatype must be FP32, got ${got}`);
  }
  const count = parseShape(tensor.shape, served, limits);
  const input = new Float32Array(count * served.shape.reduce((a, b) => a * b, 1));
  const written = flatten(tensor.data, input, 0, 0);
  if (written !== input.length) fail(`input data has ${written} elements; shape [${String(tensor.shape)}] needs ${input.length}`);
  return {
    id: id as string | undefined,
    input,
    count,
    steps: parseSteps(body.parameters, limits),
    outputs: parseOutputs(body.outputs, card.output.name),
  };
}

/**
 * The JSON body limit of an infer request: N·C·H·W numbers written with float32 precision
 * ("-0.123456789," is 13 bytes; 24 leaves room for exponents and whitespace) plus the envelope.
 */
export function inferBodyLimitBytes(served: ServedModel, maxBatch: number): number {
  return maxBatch * served.shape.reduce((a, b) => a * b, 1) * 24 + 64 * 1024;
}
