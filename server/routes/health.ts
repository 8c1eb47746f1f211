// SPDX-License-Identifier: MIT
/**
 * @file Liveness and readiness, plain and Open Inference Protocol (docs/serving.md, "Health and readiness").
 * Liveness depends on nothing; readiness = every served model's workers loaded, warmed up and alive,
 * and not draining. A model that failed to load at boot does not hold readiness down: it is reported
 * in the repository index and answered 503, while the others serve.
 */
import express, { type Router } from 'express';
import type { RouteContext } from './context.ts';

export function isReady(ctx: RouteContext): boolean {
  return !ctx.lifecycle.draining && ctx.models.ready();
}

export function healthRouter(ctx: RouteContext): Router {
  const router = express.Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', (_req, res) => {
    const ready = isReady(ctx);
    const status = ready ? 'ready' : ctx.lifecycle.draining ? 'shutting_down' : 'not_ready';
    res.status(ready ? 200 : 503).json({ status });
  });
  router.get('/v2/health/live', (_req, res) => {
    res.json({ live: true });
  });
  router.get('/v2/health/ready', (_req, res) => {
    const ready = isReady(ctx);
    res.status(ready ? 200 : 503).json({ ready });
  });
  return router;
}
