// SPDX-License-Identifier: MIT
/**
 * @file Open Inference Protocol (KServe v2 / Triton) routes: server and model metadata, per-model
 * readiness, the repository index, and JSON tensor inference batched by the same queue as the image
 * routes. Every route exists with and without `/versions/{v}`; a version other than the card's is a
 * 404. Errors use the protocol's `{"error": msg}` body (errors.ts).
 */
import express, { type Request, type Router } from 'express';
import { HttpError } from '../errors.ts';
import type { ServedModel } from '../model-set.ts';
import { isReady } from './health.ts';
import { admitWork, readyModel, runInference, type RouteContext } from './context.ts';
import { inferBodyLimitBytes, parseInferRequest } from './oip-infer.ts';

export const SERVER_NAME = 'ign-server';
export const SERVER_VERSION = '0.1.0';

/** `/v2/models/{name}` and `/v2/models/{name}/versions/{version}`, followed by `suffix`. */
const routes = (suffix: string): string[] => [`/v2/models/:name${suffix}`, `/v2/models/:name/versions/:version${suffix}`];

const notFound = (message: string): HttpError => new HttpError(404, 'model_not_found', message, { rejectReason: 'invalid' });

/** The served model named in the path, checked against the version when the path has one. */
function modelOf(ctx: RouteContext, req: Request): ServedModel {
  const name = String(req.params.name);
  const served = ctx.models.resolve(name);
  const version = req.params.version;
  if (version !== undefined && version !== served.model.card.version) {
    throw notFound(`model "${served.name}" has no version "${String(version).slice(0, 32)}"; it serves "${served.model.card.version}"`);
  }
  return served;
}

const tensor = (spec: { name: string; shape: number[] }): object => ({ name: spec.name, datatype: 'FP32', shape: spec.shape });

function metadata(served: ServedModel): object {
  const { card } = served.model;
  return {
    name: served.name,
    versions: [card.version],
    platform: 'onnxruntime_onnx',
    inputs: [tensor(card.input)],
    outputs: [tensor(card.output)],
    parameters: { execution_provider: served.generator.info().provider, description: card.description },
  };
}

export function oipRouter(ctx: RouteContext): Router {
  const router = express.Router();
  const limits = { maxBatch: ctx.config.maxCount, maxSteps: ctx.config.maxSteps };
  const bodyLimit = Math.max(...ctx.models.served().map((m) => inferBodyLimitBytes(m, limits.maxBatch)));
  const parseJson = express.json({ limit: bodyLimit, strict: true, type: () => true });

  router.get('/v2', ctx.auth, (_req, res) => {
    res.json({ name: SERVER_NAME, version: SERVER_VERSION, extensions: ['model_repository'] });
  });
  router.get(routes(''), ctx.auth, (req, res) => {
    res.json(metadata(modelOf(ctx, req)));
  });
  router.get(routes('/ready'), ctx.auth, (req, res) => {
    const served = modelOf(ctx, req);
    const ready = isReady(ctx) && served.generator.ready();
    res.status(ready ? 200 : 503).json({ name: served.name, ready });
  });
  // Triton's index is a POST with an optional {"ready": true} filter; GET lists everything.
  router.get('/v2/repository/index', ctx.auth, (_req, res) => {
    res.json(ctx.models.index());
  });
  router.post('/v2/repository/index', ctx.auth, express.json({ limit: '1kb', type: () => true }), (req, res) => {
    const body: unknown = req.body;
    const readyOnly = typeof body === 'object' && body !== null && (body as { ready?: unknown }).ready === true;
    res.json(ctx.models.index().filter((row) => !readyOnly || row.state === 'READY'));
  });
  router.post(routes('/infer'), ctx.auth, admitWork(ctx), parseJson, async (req, res) => {
    const served = modelOf(ctx, req);
    readyModel(ctx, served.name);
    const plan = parseInferRequest(req.body, served, limits);
    const result = await runInference(ctx, served, res, { input: [plan.input], count: plan.count, steps: plan.steps, keepSteps: false });
    const { card } = served.model;
    const [c, h, w] = served.shape;
    const data = Array.from(result.outputs[result.outputs.length - 1]!);
    res.json({
      model_name: served.name,
      model_version: card.version,
      ...(plan.id === undefined ? {} : { id: plan.id }),
      parameters: { steps: plan.steps },
      outputs: plan.outputs.map((name) => ({ name, datatype: 'FP32', shape: [plan.count, c, h, w], data })),
    });
  });
  return router;
}
