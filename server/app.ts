// SPDX-License-Identifier: MIT
/**
 * @file The Express application factory. It never listens and owns no process state: main.ts (or
 * a test) passes a started Generator, the loaded model and a logger, and gets back the app plus the
 * handles a graceful shutdown needs (the queue and the drain flag).
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
import { imageShapeOf, type Lifecycle, type RouteContext } from './routes/context.ts';
import { generateRouter } from './routes/generate.ts';
import { healthRouter } from './routes/health.ts';
import { oipRouter } from './routes/oip.ts';
import { projectRouter } from './routes/project.ts';
import { UploadAdmission } from './upload-admission.ts';

export interface AppDeps {
  readonly config: ServerConfig;
  readonly model: LoadedModel;
  /** Already started (warmed up); the app only submits work to it. */
  readonly generator: Generator;
  readonly logger: Logger;
  /** Defaults to a fresh registry; main.ts passes its own so default metrics sit beside ours. */
  readonly metrics?: ServerMetrics;
  readonly openApi?: OpenApiDocument;
  readonly publicDir?: string;
}

export interface IgnApp {
  readonly app: Express;
  readonly queue: BatchQueue;
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

export function createApp(deps: AppDeps): IgnApp {
  const { config, model, generator, logger } = deps;
  configureSharp();
  const metrics = deps.metrics ?? createMetrics(config.maxBatchSize);
  const openApi = deps.openApi ?? loadOpenApi();
  const queue = new BatchQueue({
    generator,
    metrics,
    maxBatchSize: config.maxBatchSize,
    maxDelayMs: config.maxQueueDelayMs,
    maxQueue: config.maxQueue,
    concurrency: config.workers,
  });
  const uploads = new UploadAdmission({ maxUploads: config.maxUploads, maxWaiting: config.maxUploadQueue, maxWaitMs: config.uploadWaitMs });
  const lifecycle: Lifecycle = { draining: false };
  const info = generator.info();
  metrics.modelInfo.set({ model: model.card.name, version: model.card.version, ep: info.provider, ort_version: info.ortVersion }, 1);
  if (info.fallback) metrics.epFallback.inc();
  const ctx: RouteContext = {
    config,
    model,
    generator,
    queue,
    uploads,
    metrics,
    lifecycle,
    shape: imageShapeOf(model),
    auth: apiKeyAuth(config.apiKeys),
  };

  const app = express();
  app.disable('x-powered-by');
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
  return { app, queue, uploads, metrics, lifecycle };
}
