// SPDX-License-Identifier: MIT
/**
 * @file Which model folders a server loads (docs/serving.md, "Model repository"). MODEL_DIR names
 * one folder; otherwise every subfolder of MODEL_REPOSITORY that holds a model.json is a candidate.
 * Folders without one (an evaluation classifier, a stray directory) are skipped with a log line; a
 * model.json that is not a valid model card, or a second folder claiming a name already taken, makes
 * that one model unavailable with the reason. startRepository then starts one worker pool per model;
 * with MODEL_REPOSITORY a pool that cannot start makes its model unavailable too, unless
 * STRICT_MODELS=1 (MODEL_DIR is always strict), and a repository with nothing left to serve fails.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { loadModelCard, type LoadedModel } from '../common/model-card.ts';
import type { ModelDeps } from './app.ts';
import type { ServerConfig } from './config.ts';
import { WorkerPool, poolOptionsFor, type PoolOptions } from './inference/pool.ts';
import type { UnavailableModel } from './model-set.ts';

export interface FoundModels {
  readonly loaded: LoadedModel[];
  readonly unavailable: UnavailableModel[];
}

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

async function hasCard(dir: string): Promise<boolean> {
  return stat(join(dir, 'model.json')).then(
    (s) => s.isFile(),
    () => false,
  );
}

/** Loads the cards of MODEL_DIR or of MODEL_REPOSITORY's folders; throws only when the folder itself is unreadable. */
export async function findModels(config: ServerConfig, logger: Logger): Promise<FoundModels> {
  if (config.modelDir !== null) return { loaded: [await loadModelCard(config.modelDir)], unavailable: [] };
  const root = config.modelRepository;
  const entries = await readdir(root, { withFileTypes: true }).catch((err: unknown) => {
    throw new Error(`MODEL_REPOSITORY ${root} cannot be read: ${messageOf(err)}`);
  });
  const loaded: LoadedModel[] = [];
  const unavailable: UnavailableModel[] = [];
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const dir = join(root, entry.name);
    // Folders, and links to folders (mounted volumes and config maps are often links).
    if (
      !(await stat(dir).then(
        (st) => st.isDirectory(),
        () => false,
      ))
    )
      continue;
    if (!(await hasCard(dir))) {
      logger.info({ dir }, 'skipping a folder without model.json');
      continue;
    }
    try {
      const model = await loadModelCard(dir);
      const taken = loaded.find((m) => m.card.name === model.card.name);
      if (taken !== undefined) throw new Error(`its card's name "${model.card.name}" is already served from ${taken.modelPath}`);
      loaded.push(model);
    } catch (err) {
      logger.error({ dir, error: messageOf(err) }, 'model folder cannot be served');
      unavailable.push({ name: entry.name, version: null, reason: messageOf(err) });
    }
  }
  return { loaded, unavailable };
}

/** Why the boot cannot go on: main.ts logs it and exits 1. */
export class StartupError extends Error {
  override readonly name = 'StartupError';
  constructor(
    readonly what: string,
    message: string,
  ) {
    super(message);
  }
}

export type PooledModel = ModelDeps & { readonly generator: WorkerPool };

export interface StartedRepository {
  readonly models: PooledModel[];
  readonly unavailable: UnavailableModel[];
}

/** Per-model pool hooks (restart counting, giving up), given the model's name. */
export type PoolHooksFor = (name: string) => Pick<PoolOptions, 'onRestart' | 'onGiveUp'>;

async function startPool(config: ServerConfig, model: LoadedModel, logger: Logger, hooks: PoolHooksFor): Promise<PooledModel | string> {
  const { card } = model;
  const pool = new WorkerPool(poolOptionsFor(config, model, logger.child({ model: card.name }), hooks(card.name)));
  try {
    const info = await pool.start();
    logger.info(
      { model: card.name, version: card.version, provider: info.provider, ortVersion: info.ortVersion, workers: config.workers },
      'model loaded and warmed up',
    );
    return { model, generator: pool };
  } catch (err) {
    logger.error({ model: card.name, modelPath: model.modelPath, error: messageOf(err) }, 'model failed to load');
    return messageOf(err);
  }
}

/** Finds the models and starts a warmed-up pool for each; throws StartupError when the boot must stop. */
export async function startRepository(config: ServerConfig, logger: Logger, hooks: PoolHooksFor): Promise<StartedRepository> {
  const found = await findModels(config, logger).catch((err: unknown) => {
    throw new StartupError('cannot load the model card', messageOf(err));
  });
  const strict = config.strictModels || config.modelDir !== null;
  const firstBad = found.unavailable[0];
  if (strict && firstBad !== undefined) throw new StartupError('cannot load the model card', `${firstBad.name}: ${firstBad.reason}`);
  const started = await Promise.all(found.loaded.map((model) => startPool(config, model, logger, hooks)));
  const models: PooledModel[] = [];
  const unavailable = [...found.unavailable];
  for (const [i, result] of started.entries()) {
    const { card } = found.loaded[i]!;
    if (typeof result !== 'string') models.push(result);
    else unavailable.push({ name: card.name, version: card.version, reason: result });
  }
  const failed = started.find((r) => typeof r === 'string');
  if ((strict && failed !== undefined) || models.length === 0) {
    await Promise.all(models.map((m) => m.generator.close()));
    if (strict && failed !== undefined) throw new StartupError('cannot start inference', failed);
    const reasons = unavailable.map((m) => `${m.name}: ${m.reason}`).join('; ');
    throw new StartupError('no model could be served', reasons || `no folder with a model.json in ${config.modelRepository}`);
  }
  return { models, unavailable };
}
