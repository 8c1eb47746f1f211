// SPDX-License-Identifier: MIT
/**
 * @file The models one server answers for (docs/serving.md, "Model repository"). Each served model
 * has its own worker pool and its own batching queue, so a slow model never holds up another; the
 * routes resolve a request's `model` parameter here. A model that could not be loaded stays in the
 * set as UNAVAILABLE with its reason, which the repository index reports and requests get as 503.
 */
import type { ImageShape } from '../common/image-shape.ts';
import type { LoadedModel } from '../common/model-card.ts';
import { HttpError, badRequest } from './errors.ts';
import type { Generator } from './inference/generator.ts';
import type { BatchQueue } from './queue.ts';

export interface ServedModel {
  readonly name: string;
  readonly model: LoadedModel;
  readonly generator: Generator;
  readonly queue: BatchQueue;
  readonly shape: ImageShape;
}

/** A model directory that was found but could not be served. */
export interface UnavailableModel {
  readonly name: string;
  readonly version: string | null;
  readonly reason: string;
}

/** One row of the repository index (Triton's `POST /v2/repository/index` form). */
export interface RepositoryIndexEntry {
  readonly name: string;
  readonly version: string;
  readonly state: 'READY' | 'UNAVAILABLE';
  readonly reason: string;
}

/** Served and client-supplied model names: short tokens, so they are safe in logs and label values. */
export const MODEL_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** MODEL_NAME when set, else `mnist` when served, else the only model; null = requests must name one. */
export function chooseDefaultModel(names: readonly string[], configured: string | null): string | null {
  if (configured !== null) return configured;
  if (names.includes('mnist')) return 'mnist';
  return names.length === 1 ? names[0]! : null;
}

export class ModelSet {
  private readonly byName: ReadonlyMap<string, ServedModel>;
  private readonly unavailableByName: ReadonlyMap<string, UnavailableModel>;

  constructor(
    served: readonly ServedModel[],
    unavailable: readonly UnavailableModel[],
    readonly defaultName: string | null,
  ) {
    this.byName = new Map(served.map((m) => [m.name, m]));
    this.unavailableByName = new Map(unavailable.map((m) => [m.name, m]));
    if (this.byName.size === 0) throw new Error('no model to serve');
  }

  /** Served models, in name order. */
  served(): ServedModel[] {
    return [...this.byName.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The served model called `name`, or undefined (no throw: for metadata routes that answer 404 themselves). */
  find(name: string): ServedModel | undefined {
    return this.byName.get(name);
  }

  /**
   * The model a request asked for (`undefined` = the default). 400 without a default, 404 for a
   * name nobody serves, 503 for one that failed to load.
   */
  resolve(name: string | undefined): ServedModel {
    const wanted = name ?? this.defaultName;
    if (wanted === null) {
      throw badRequest('model_required', `this server has several models; name one with "model": ${this.names().join(', ')}`);
    }
    const served = this.byName.get(wanted);
    if (served !== undefined) return served;
    const broken = this.unavailableByName.get(wanted);
    if (broken !== undefined) {
      throw new HttpError(503, 'model_unavailable', `model "${wanted}" is unavailable: ${broken.reason}`, { rejectReason: 'not_ready' });
    }
    const shown = MODEL_NAME_PATTERN.test(wanted) ? wanted : wanted.slice(0, 64).replace(/[^\x20-\x7e]/g, '?');
    throw new HttpError(404, 'model_not_found', `model "${shown}" not found; served: ${this.names().join(', ')}`, {
      rejectReason: 'invalid',
    });
  }

  /** Every served model's workers are up (failed loads do not count: they are reported, not awaited). */
  ready(): boolean {
    return [...this.byName.values()].every((m) => m.generator.ready());
  }

  /** Resolves when no queue holds or runs work (graceful drain). */
  async idle(): Promise<void> {
    await Promise.all([...this.byName.values()].map((m) => m.queue.idle()));
  }

  index(): RepositoryIndexEntry[] {
    const rows: RepositoryIndexEntry[] = [
      ...[...this.byName.values()].map((m) => ({
        name: m.name,
        version: m.model.card.version,
        state: m.generator.ready() ? ('READY' as const) : ('UNAVAILABLE' as const),
        reason: m.generator.ready() ? '' : 'workers are starting or restarting',
      })),
      ...[...this.unavailableByName.values()].map((m) => ({
        name: m.name,
        version: m.version ?? '',
        state: 'UNAVAILABLE' as const,
        reason: m.reason,
      })),
    ];
    return rows.sort((a, b) => a.name.localeCompare(b.name));
  }

  private names(): string[] {
    return this.served().map((m) => m.name);
  }
}
