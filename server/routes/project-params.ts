// SPDX-License-Identifier: MIT
/**
 * @file The parameters of POST /project, declared once as a table. Each one may arrive as a
 * multipart text field or as a query parameter (curl -F, HTML forms and HTTP clients send fields;
 * a raw image body can only use the query string). One parser validates both sources the same way:
 * an unknown name is a 400 naming it, the same parameter in both places a 400, and values are
 * strict decimal strings or one of a fixed set (no coercion of "1.5", "0x10" or repeated values).
 * Adding a parameter is adding one row.
 */
import { CORRUPTIONS, type CorruptionKind } from '../../common/corruptions.ts';
import { badRequest } from '../errors.ts';
import { MODEL_NAME_PATTERN } from '../model-set.ts';

export interface ParamLimits {
  readonly maxSteps: number;
}

interface ParamSpec<T> {
  /** Used when the parameter is absent from both places. */
  readonly fallback: T;
  /** `raw` is whatever the parser produced: a string, or an array when the name was repeated. */
  readonly parse: (raw: unknown, limits: ParamLimits) => T;
}

function integer(name: string, code: string, min: (limits: ParamLimits) => number, max: (limits: ParamLimits) => number) {
  return (raw: unknown, limits: ParamLimits): number => {
    const lo = min(limits);
    const hi = max(limits);
    if (typeof raw !== 'string' || !/^[0-9]{1,10}$/.test(raw) || Number(raw) < lo || Number(raw) > hi) {
      throw badRequest(code, `${name} must be an integer in [${lo}, ${hi}]`);
    }
    return Number(raw);
  };
}

function oneOf<T extends string>(name: string, code: string, allowed: readonly T[]) {
  return (raw: unknown): T => {
    const found = allowed.find((value) => value === raw);
    if (found === undefined) throw badRequest(code, `${name} must be one of ${allowed.join(', ')}`);
    return found;
  };
}

function modelName(raw: unknown): string {
  if (typeof raw !== 'string' || !MODEL_NAME_PATTERN.test(raw)) {
    throw badRequest('invalid_model', 'model must be a model name (letters, digits, ".", "_", "-"; at most 64)');
  }
  return raw;
}

export const NORMALIZE_MODES = ['auto', 'none'] as const;
export type NormalizeMode = (typeof NORMALIZE_MODES)[number];

/** The table. `normalize` and `model` are passed through as given (null when absent); the route decides their defaults. */
export const PROJECT_PARAMS = {
  model: { fallback: null, parse: modelName } satisfies ParamSpec<string | null>,
  steps: {
    fallback: 1,
    parse: integer(
      'steps',
      'invalid_steps',
      () => 1,
      (l) => l.maxSteps,
    ),
  },
  seed: {
    fallback: 0,
    parse: integer(
      'seed',
      'invalid_seed',
      () => 0,
      () => 0xffffffff,
    ),
  },
  corrupt: { fallback: null, parse: oneOf('corrupt', 'invalid_corruption', CORRUPTIONS) } satisfies ParamSpec<CorruptionKind | null>,
  normalize: { fallback: null, parse: oneOf('normalize', 'invalid_normalize', NORMALIZE_MODES) } satisfies ParamSpec<NormalizeMode | null>,
} as const;

type Table = typeof PROJECT_PARAMS;
export type ProjectParams = { readonly [K in keyof Table]: Table[K]['fallback'] | ReturnType<Table[K]['parse']> };

export const PROJECT_PARAM_NAMES: readonly string[] = Object.keys(PROJECT_PARAMS);
/** Multipart text fields the parser will accept at most (each name once, plus room to name an unknown one). */
export const MAX_FORM_FIELDS = PROJECT_PARAM_NAMES.length + 1;
/** Longest accepted field value in bytes: every valid value is a short token. */
export const MAX_FIELD_BYTES = 64;

const isParam = (name: string): name is keyof Table => Object.hasOwn(PROJECT_PARAMS, name);

function rejectUnknown(source: Readonly<Record<string, unknown>>, where: string): void {
  const unknown = Object.keys(source).find((name) => !isParam(name));
  if (unknown !== undefined) {
    throw badRequest('unknown_field', `unknown ${where} "${unknown.slice(0, 40)}"; accepted: ${PROJECT_PARAM_NAMES.join(', ')}`);
  }
}

/**
 * Validates the query string and the multipart text fields together. Call it with `fields = {}`
 * before the body is read to refuse a bad query early, and again with the fields once it is.
 */
export function parseProjectParams(
  query: Readonly<Record<string, unknown>>,
  fields: Readonly<Record<string, unknown>>,
  limits: ParamLimits,
): ProjectParams {
  rejectUnknown(query, 'query parameter');
  rejectUnknown(fields, 'form field');
  const both = Object.keys(fields).find((name) => Object.hasOwn(query, name));
  if (both !== undefined) {
    throw badRequest('duplicate_parameter', `"${both}" was sent both as a form field and in the query string; send it once`);
  }
  const entries = Object.entries(PROJECT_PARAMS).map(([name, spec]: [string, ParamSpec<unknown>]) => {
    const raw = Object.hasOwn(fields, name) ? fields[name] : Object.hasOwn(query, name) ? query[name] : undefined;
    return [name, raw === undefined ? spec.fallback : spec.parse(raw, limits)];
  });
  return Object.fromEntries(entries) as ProjectParams;
}
