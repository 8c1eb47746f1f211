// SPDX-License-Identifier: MIT
/**
 * @file POST /generate: f^k applied to seeded noise. Image i's noise is the i-th block of one
 * `new Rng(seed)` stream (sequential, so image 0 does not depend on count); `interpolate` draws one
 * noise per end seed and applies f^k along z_t = (1 − t)·z_from + t·z_to, t = 0, 1/(n−1), …, 1.
 * The route sends the draw, not the pixels: the worker that runs f draws it.
 */
import { randomInt } from 'node:crypto';
import express, { type RequestHandler, type Router } from 'express';
import type { NoiseKind } from '../../common/noise.ts';
import { HttpError, badRequest } from '../errors.ts';
import { encodeGridPng, encodePng } from '../image-codec.ts';
import type { RequestValidators } from '../openapi.ts';
import type { ServedModel } from '../model-set.ts';
import type { NoiseDraw } from '../inference/generator.ts';
import { admitWork, modelRef, negotiate, readyModel, residualsOf, runInference, type RouteContext } from './context.ts';

interface GenerateBody {
  model?: string;
  count?: number;
  steps?: number;
  seed?: number;
  noise?: NoiseKind;
  returnSteps?: boolean;
  interpolate?: { from: number; to: number; points: number };
}

interface GeneratePlan {
  readonly seed: number | null;
  readonly count: number;
  readonly steps: number;
  readonly noise: NoiseKind;
  readonly returnSteps: boolean;
  readonly interpolate: Required<GenerateBody>['interpolate'] | null;
}

function plan(body: GenerateBody, served: ServedModel): GeneratePlan {
  // Default to the noise f was trained on: a Fourier-trained f maps Gaussian z to one blob.
  const noise = body.noise ?? served.model.card.noise.kind;
  if (noise !== 'gaussian' && served.model.noiseStats?.kind !== noise) {
    throw badRequest('invalid_noise', `this model has no ${noise} noise statistics; use "gaussian" or "${served.model.card.noise.kind}"`);
  }
  if (body.interpolate !== undefined && (body.count !== undefined || body.seed !== undefined)) {
    throw badRequest('invalid_interpolate', 'interpolate replaces count and seed; send only one of them');
  }
  const interpolate = body.interpolate ?? null;
  return {
    seed: interpolate === null ? (body.seed ?? randomInt(0, 2 ** 32)) : null,
    count: interpolate?.points ?? body.count ?? 1,
    steps: body.steps ?? 1,
    noise,
    returnSteps: body.returnSteps ?? false,
    interpolate,
  };
}

/** The plan's noise, drawn by the worker that runs f (inference/job-input.ts). */
function noiseDraw(p: GeneratePlan, served: ServedModel): NoiseDraw {
  const spec = { kind: p.noise, hermitian: p.noise === 'fourier' && served.model.card.noise.hermitian === true };
  if (p.interpolate === null) return { spec, shape: served.shape, seed: p.seed!, count: p.count };
  return { spec, shape: served.shape, seed: p.interpolate.from, to: p.interpolate.to, count: p.count };
}

function requireJson(): RequestHandler {
  return (req, _res, next) => {
    const type = req.is('application/json');
    const charset = /;\s*charset=("?)([^";]+)\1/i.exec(req.get('content-type') ?? '')?.[2]?.toLowerCase();
    if (type === false || type === null) {
      next(new HttpError(415, 'unsupported_media_type', 'send the body as application/json', { rejectReason: 'invalid' }));
    } else if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
      next(new HttpError(415, 'unsupported_charset', 'only utf-8 JSON is accepted', { rejectReason: 'invalid' }));
    } else {
      next();
    }
  };
}

export function generateRouter(ctx: RouteContext, validators: RequestValidators): Router {
  const router = express.Router();
  // The request body is required (openapi.yaml) but body-parser reads an empty one as {}.
  const rejectEmpty = (_req: unknown, _res: unknown, body: Buffer): void => {
    if (body.length === 0) throw badRequest('invalid_body', 'the body must be a JSON object');
  };
  const parseJson = express.json({ limit: '4kb', strict: true, type: 'application/json', verify: rejectEmpty });
  router.post('/generate', ctx.auth, admitWork(ctx), requireJson(), parseJson, async (req, res) => {
    const invalid = validators.generate(req.body);
    if (invalid !== null) throw invalid;
    const kind = negotiate(req);
    const body = req.body as GenerateBody;
    const served = readyModel(ctx, body.model);
    const { shape } = served;
    const range = served.model.card.image.valueRange;
    const p = plan(body, served);
    const keepSteps = kind === 'json' && p.returnSteps;
    const useGenerationFile = served.model.generatorPath !== null;
    const input = [noiseDraw(p, served)];
    const result = await runInference(ctx, served, res, { input, count: p.count, steps: p.steps, keepSteps, useGenerationFile });
    if (p.seed !== null) res.setHeader('X-Seed', String(p.seed));
    const final = result.outputs[result.outputs.length - 1]!;
    if (kind === 'png') {
      const png = p.count === 1 ? await encodePng(final, 0, shape, range) : await encodeGridPng(final, p.count, shape, range);
      res.type('image/png').send(png);
      return;
    }
    const images = [];
    for (let n = 0; n < p.count; n++) {
      const residuals = residualsOf(result.residuals, p.count, n);
      const steps = keepSteps
        ? await Promise.all(result.outputs.map(async (o) => (await encodePng(o, n, shape, range)).toString('base64')))
        : undefined;
      // With steps kept, the last step is f^k itself: reuse its encoding.
      const png = steps?.at(-1) ?? (await encodePng(final, n, shape, range)).toString('base64');
      images.push({ png, residual: residuals[residuals.length - 1]!, residuals, ...(steps === undefined ? {} : { steps }) });
    }
    res.json({
      seed: p.seed,
      ...(p.interpolate === null ? {} : { interpolate: p.interpolate }),
      steps: p.steps,
      noise: p.noise,
      model: modelRef(served),
      provider: served.generator.info().provider,
      images,
    });
  });
  return router;
}
