// SPDX-License-Identifier: MIT
/**
 * @file openapi.yaml is the contract and the validator: its JSON-schema components are compiled
 * with ajv at startup (no type coercion, unknown keys refused), and the request bodies are checked
 * against them. The only edit is the configured MAX_COUNT / MAX_STEPS replacing the documented
 * defaults as upper bounds.
 */
import { readFileSync } from 'node:fs';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { badRequest, type HttpError } from './errors.ts';
import { repoFile } from './paths.ts';

const openApiPath = (): string => repoFile('openapi.yaml');

export interface OpenApiDocument {
  readonly text: string;
  readonly components: { schemas: Record<string, Record<string, unknown>> };
}

export function loadOpenApi(path = openApiPath()): OpenApiDocument {
  const text = readFileSync(path, 'utf8');
  const parsed = parse(text) as OpenApiDocument;
  return { text, components: parsed.components };
}

export interface Limits {
  readonly maxCount: number;
  readonly maxSteps: number;
}

type Schema = Record<string, unknown> & { properties?: Record<string, Record<string, unknown>> };

function withLimits(doc: OpenApiDocument, { maxCount, maxSteps }: Limits): OpenApiDocument['components'] {
  const components = structuredClone(doc.components);
  const request = components.schemas.GenerateRequest as Schema;
  const props = request.properties!;
  props.count!.maximum = maxCount;
  props.steps!.maximum = maxSteps;
  (props.interpolate as Schema).properties!.points!.maximum = maxCount;
  return components;
}

/** An ajv instance holding every component schema, addressable as `openapi#/components/schemas/X`. */
export function compileComponents(components: OpenApiDocument['components']): (name: string) => ValidateFunction {
  const ajv = new Ajv2020({ strict: true, allErrors: false, coerceTypes: false, useDefaults: false });
  ajv.addVocabulary(['example', 'components']);
  ajv.addSchema({ $id: 'openapi', components });
  return (name) => {
    const validate = ajv.getSchema(`openapi#/components/schemas/${name}`);
    if (validate === undefined) throw new Error(`openapi.yaml has no schema ${name}`);
    return validate;
  };
}

const fieldCodes: Readonly<Record<string, string>> = {
  count: 'invalid_count',
  steps: 'invalid_steps',
  seed: 'invalid_seed',
  noise: 'invalid_noise',
  interpolate: 'invalid_interpolate',
  returnSteps: 'invalid_body',
};

/** Turns the first ajv error into the catalogue's code (docs/serving.md, "Bad-input catalogue"). */
function toBadRequest(error: ErrorObject | undefined): HttpError {
  if (error === undefined) return badRequest('invalid_body', 'invalid request body');
  const field = error.instancePath.split('/')[1] ?? '';
  if (error.keyword === 'additionalProperties') {
    const extra = String((error.params as { additionalProperty?: unknown }).additionalProperty);
    return badRequest('unknown_field', `unknown field "${extra.slice(0, 40)}"${field ? ` in ${field}` : ''}`);
  }
  if (field === '') return badRequest('invalid_body', 'the body must be a JSON object');
  return badRequest(fieldCodes[field] ?? 'invalid_body', `${error.instancePath.slice(1)} ${error.message ?? 'is invalid'}`);
}

export interface RequestValidators {
  generate(body: unknown): HttpError | null;
}

export function createRequestValidators(doc: OpenApiDocument, limits: Limits): RequestValidators {
  const schema = compileComponents(withLimits(doc, limits));
  const generate = schema('GenerateRequest');
  return {
    generate: (body) => (generate(body) ? null : toBadRequest(generate.errors?.[0])),
  };
}
