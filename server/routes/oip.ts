// SPDX-License-Identifier: MIT
/** Open Inference Protocol (KServe v2) metadata routes; errors use the protocol's `{"error": msg}`. */
import express, { type Router } from 'express';
import { HttpError } from '../errors.ts';
import { isReady } from './health.ts';
import type { RouteContext } from './context.ts';

export const SERVER_NAME = 'ign-server';
export const SERVER_VERSION = '0.1.0';

export function oipRouter(ctx: RouteContext): Router {
  const router = express.Router();
  const { card } = ctx.model;
  const requireModel = (name: string | string[] | undefined): void => {
    if (name !== card.name) throw new HttpError(404, 'model_not_found', `model "${String(name).slice(0, 64)}" not found`);
  };
  router.get('/v2', ctx.auth, (_req, res) => {
    res.json({ name: SERVER_NAME, version: SERVER_VERSION, extensions: [] });
  });
  router.get('/v2/models/:name', ctx.auth, (req, res) => {
    requireModel(req.params.name);
    const tensor = (spec: { name: string; shape: number[] }): object => ({ name: spec.name, datatype: 'FP32', shape: spec.shape });
    res.json({
      name: card.name,
      versions: [card.version],
      platform: 'onnxruntime_onnx',
      inputs: [tensor(card.input)],
      outputs: [tensor(card.output)],
      parameters: { execution_provider: ctx.generator.info().provider },
    });
  });
  router.get('/v2/models/:name/ready', ctx.auth, (req, res) => {
    requireModel(req.params.name);
    const ready = isReady(ctx);
    res.status(ready ? 200 : 503).json({ ready });
  });
  return router;
}
