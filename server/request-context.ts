// SPDX-License-Identifier: MIT
/**
 * @file Per-request bookkeeping: the request id (a valid incoming X-Request-Id or a fresh UUID),
 * one JSON log line per request (sizes and ids, never bodies), and the request metrics labelled by
 * route template. A response that closes before finishing counts as `client_gone`.
 */
import { randomUUID } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { countRejection, type ServerMetrics } from './metrics.ts';
import type { RejectReason } from './errors.ts';

const VALID_REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

function routeLabel(req: Request, res: Response): string {
  const route: unknown = req.route;
  if (typeof route === 'object' && route !== null && 'path' in route && typeof route.path === 'string') return route.path;
  return res.locals.staticFile === true ? 'static' : 'unmatched';
}

export function requestContext(logger: Logger, metrics: ServerMetrics): RequestHandler {
  return (req, res, next) => {
    const incoming = req.get('x-request-id');
    const requestId = incoming !== undefined && VALID_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.locals.requestId = requestId;
    res.setHeader('X-Request-Id', requestId);
    const started = process.hrtime.bigint();
    metrics.inflight.inc();
    res.once('close', () => {
      metrics.inflight.dec();
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = routeLabel(req, res);
      const finished = res.writableFinished;
      const reason = (finished ? res.locals.rejectReason : 'client_gone') as RejectReason | undefined;
      countRejection(metrics, reason);
      metrics.requests.inc({ route, code: finished ? String(res.statusCode) : 'aborted' });
      metrics.requestDuration.observe({ route }, seconds);
      const line = {
        requestId,
        method: req.method,
        route,
        status: finished ? res.statusCode : null,
        ms: Math.round(seconds * 1000),
        bytesIn: Number(req.get('content-length') ?? 0),
        bytesOut: Number(res.getHeader('content-length') ?? 0),
        errorCode: res.locals.errorCode as string | undefined,
      };
      if (!finished) logger.info(line, 'client gone');
      else if (res.statusCode >= 500) logger.warn(line, 'request failed');
      else logger.info(line, 'request');
    });
    next();
  };
}
