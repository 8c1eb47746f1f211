// SPDX-License-Identifier: MIT
/** What the route modules share: config, the served models, metrics and the drain flag. */
import type { Request, RequestHandler, Response } from 'express';
import type { LoadedModel } from '../../common/model-card.ts';
import type { ServerConfig } from '../config.ts';
import { ClientGoneError, HttpError } from '../errors.ts';
import { CancelledError, InferenceError, type GeneratorJob, type GeneratorResult } from '../inference/generator.ts';
import type { ServerMetrics } from '../metrics.ts';
import type { ModelSet, ServedModel } from '../model-set.ts';
import type { UploadAdmission } from '../upload-admission.ts';
import type { ImageShape } from '../../common/image-shape.ts';

export interface Lifecycle {
  draining: boolean;
}

export interface RouteContext {
  readonly config: ServerConfig;
  readonly models: ModelSet;
  readonly uploads: UploadAdmission;
  readonly metrics: ServerMetrics;
  readonly lifecycle: Lifecycle;
  readonly auth: RequestHandler;
}

export function imageShapeOf(model: LoadedModel): ImageShape {
  const { channels, height, width } = model.card.image;
  return [channels, height, width];
}

/** New inference work is refused while draining. */
export function admitWork(ctx: RouteContext): RequestHandler {
  return (_req, _res, next) => {
    if (ctx.lifecycle.draining)
      next(new HttpError(503, 'shutting_down', 'server is shutting down', { retryAfterSeconds: 1, rejectReason: 'not_ready' }));
    else next();
  };
}

/** The model a request named (undefined = the default), refused with 503 while its workers are not ready. */
export function readyModel(ctx: RouteContext, name: string | undefined): ServedModel {
  const served = ctx.models.resolve(name);
  if (!served.generator.ready()) {
    throw new HttpError(503, 'not_ready', `model "${served.name}" is not ready`, { retryAfterSeconds: 1, rejectReason: 'not_ready' });
  }
  return served;
}

/** The `model` object of JSON answers. */
export function modelRef(served: ServedModel): { name: string; version: string } {
  return { name: served.name, version: served.model.card.version };
}

export type ResponseKind = 'png' | 'json';

export function negotiate(req: Request): ResponseKind {
  const chosen = req.accepts(['image/png', 'application/json']);
  if (chosen === false)
    throw new HttpError(406, 'not_acceptable', 'Accept must allow image/png or application/json', { rejectReason: 'invalid' });
  return chosen === 'application/json' ? 'json' : 'png';
}

/** Queues f^k on `served`'s queue, cancelled when the client leaves; maps failures to HTTP errors. */
export async function runInference(ctx: RouteContext, served: ServedModel, res: Response, call: GeneratorJob): Promise<GeneratorResult> {
  const controller = new AbortController();
  const onClose = (): void => {
    if (!res.writableFinished) controller.abort();
  };
  res.once('close', onClose);
  try {
    const result = await served.queue.submit({ ...call, signal: controller.signal, deadlineAt: Date.now() + ctx.config.requestTimeoutMs });
    const count = call.count;
    const labels = { model: served.name };
    ctx.metrics.imagesGenerated.inc(labels, count);
    ctx.metrics.refinementSteps.inc(labels, count * call.steps);
    for (const r of result.residuals.subarray((call.steps - 1) * count)) ctx.metrics.idempotenceResidual.observe(labels, r);
    return result;
  } catch (err) {
    if (err instanceof CancelledError) throw new ClientGoneError('cancelled');
    if (err instanceof InferenceError) {
      const message = err.code === 'invalid_model_output' ? 'the model produced NaN or Inf' : 'inference failed';
      throw new HttpError(500, err.code, message);
    }
    throw err;
  } finally {
    res.off('close', onClose);
  }
}

/** Residuals of image n for steps 1..k from the [k][N] layout. */
export function residualsOf(residuals: Float32Array, count: number, n: number): number[] {
  const out: number[] = [];
  for (let i = n; i < residuals.length; i += count) out.push(residuals[i]!);
  return out;
}
