// SPDX-License-Identifier: MIT
/**
 * @file The Express application factory. It never listens and owns no process state: main.ts (or
 * a test) passes each loaded model with its started Generator, the models that failed to load, and a
 * logger, and gets back the app plus the handles a graceful shutdown needs (the models' queues and
 * the drain flag).
 */
import express, { type Express, type RequestHandler } from 'express';
import helmet from 'helmet';
import type { Logger } from 'pino';
import type { LoadedModel } from '../common/model-card.ts';
import { apiKeyAuth } from './auth.ts';
import type { ServerConfig } from './config.ts';
import { HttpError, errorMiddleware } from './errors.ts';
import { configureSharp } from './image-codec.ts';
import type { Generator } from './inference/generator.ts';
import { createMetrics, type ServerMetrics } from './metrics.ts';
import { createRequestValidators, loadOpenApi, type OpenApiDocument } from './openapi.ts';
import { repoFile } from './paths.ts';
import { BatchQueue } from './queue.ts';
import { requestContext } from './request-context.ts';
import { chooseDefaultModel, ModelSet, type ServedModel, type UnavailableModel } from './model-set.ts';
import { imageShapeOf, type Lifecycle, type RouteContext } from './routes/context.ts';
import { generateRouter } from './routes/generate.ts';
import { healthRouter } from './routes/health.ts';
import { oipRouter } from './routes/oip.ts';
import { projectRouter } from './routes/project.ts';
import { UploadAdmission } from './upload-admission.ts';

/** One loaded model and the Generator that runs it. */
export interface ModelDeps {
  readonly model: LoadedModel;
  /** Already started (warmed up); the app only submits work to it. */
  readonly generator: Generator;
}

export interface AppDeps {
  readonly config: ServerConfig;
  /** At least one; each is served under its card's name. */
  readonly models: readonly ModelDeps[];
  /** Found but not loadable: listed UNAVAILABLE with the reason, answered 503. */
  readonly unavailable?: readonly UnavailableModel[];
  readonly logger: Logger;
  /** Defaults to a fresh registry; main.ts passes its own so default metrics sit beside ours. */
  readonly metrics?: ServerMetrics;
  readonly openApi?: OpenApiDocument;
  readonly publicDir?: string;
}

export interface IgnApp {
  readonly app: Express;
  readonly models: ModelSet;
  readonly uploads: UploadAdmission;
  readonly metrics: ServerMetrics;
  readonly lifecycle: Lifecycle;
}

function securityHeaders(): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: true,
      directives: { defaultSrc: ["'self'"], imgSrc: ["'self'", 'data:', 'blob:'], connectSrc: ["'self'"] },
    },
  });
}

function publicRoutes(publicDir: string, openApiText: string): express.Router {
  const router = express.Router();
  router.get('/openapi.yaml', (_req, res) => {
    res.type('application/yaml').send(openApiText);
  });
  router.use(
    (_req, res, next) => {
      res.locals.staticFile = true;
      next();
    },
    express.static(publicDir, { index: 'index.html', fallthrough: true }),
  );
  return router;
}

function serve(deps: ModelDeps, config: ServerConfig, metrics: ServerMetrics): ServedModel {
  const { model, generator } = deps;
  const name = model.card.name;
  const queue = new BatchQueue({
    generator,
    metrics,
    model: name,
    maxBatchSize: config.maxBatchSize,
    maxDelayMs: config.maxQueueDelayMs,
    maxQueue: config.maxQueue,
    concurrency: config.workers,
  });
  const info = generator.info();
  metrics.modelInfo.set({ model: name, version: model.card.version, ep: info.provider, ort_version: info.ortVersion }, 1);
  // Start each model's counters at 0 so a dashboard sees the series before the first event.
  metrics.epFallback.inc({ model: name }, info.fallback ? 1 : 0);
  metrics.workerRestarts.inc({ model: name }, 0);
  return { name, model, generator, queue, shape: imageShapeOf(model) };
}

function modelSetOf(deps: AppDeps, metrics: ServerMetrics): ModelSet {
  const names = deps.models.map((m) => m.model.card.name);
  const duplicate = names.find((name, i) => names.indexOf(name) !== i);
  if (duplicate !== undefined) throw new Error(`two models are named "${duplicate}"`);
  const defaultName = chooseDefaultModel(names, deps.config.modelName);
  if (defaultName !== null && !names.includes(defaultName)) {
    throw new Error(`MODEL_NAME "${defaultName}" is not among the served models (${names.join(', ')})`);
  }
  return new ModelSet(
    deps.models.map((m) => serve(m, deps.config, metrics)),
    deps.unavailable ?? [],
    defaultName,
  );
}

export function createApp(deps: AppDeps): IgnApp {
  const { config, logger } = deps;
  configureSharp();
  const metrics = deps.metrics ?? createMetrics(config.maxBatchSize);
  const openApi = deps.openApi ?? loadOpenApi();
  const models = modelSetOf(deps, metrics);
  const uploads = new UploadAdmission({ maxUploads: config.maxUploads, maxWaiting: config.maxUploadQueue, maxWaitMs: config.uploadWaitMs });
  const lifecycle: Lifecycle = { draining: false };
  const ctx: RouteContext = { config, models, uploads, metrics, lifecycle, auth: apiKeyAuth(config.apiKeys) };

  const app = express();
  app.disable('x-powered-by');
  // No ETag on dynamic answers: Express would hash every body (a SHA-1 per /generate answer, about
  // 1 % of the event loop at 32 connections) for validators no client of a POST API can use. Static
  // files keep theirs (express.static sets its own).
  app.set('etag', false);
  app.set('env', 'production');
  app.use(requestContext(logger, metrics), securityHeaders());
  app.use(healthRouter(ctx));
  app.use(publicRoutes(deps.publicDir ?? repoFile('server/public'), openApi.text));
  app.get('/metrics', ctx.auth, async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  app.use(oipRouter(ctx));
  app.use(generateRouter(ctx, createRequestValidators(openApi, config)));
  app.use(projectRouter(ctx));
  app.use((req, _res, next) => {
    next(new HttpError(404, 'not_found', `no route for ${req.method} ${req.path.slice(0, 100)}`));
  });
  app.use(errorMiddleware(logger));
  return { app, models, uploads, metrics, lifecycle };
}
