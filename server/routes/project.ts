// SPDX-License-Identifier: MIT
/**
 * @file POST /project: f^k(x) for an uploaded image x, optionally corrupted first (paper Fig. 5).
 * Parameters come from the query string because the multipart parser accepts no text fields.
 * JSON answers carry every step and δ(x) = RMS(f(x) − x), the paper's out-of-distribution score.
 * normalize=auto (the default) brings the upload to the card's input conventions first when it
 * declares them (common/input-normalizer.ts); normalize=none only resizes.
 */
import express, { type Router } from 'express';
import { corrupt, isCorruptionKind, type CorruptionKind } from '../../common/corruptions.ts';
import { Rng } from '../../common/rng.ts';
import { badRequest } from '../errors.ts';
import { decodeToTensor, encodePng } from '../image-codec.ts';
import { readUpload, uploadAdmission } from '../upload.ts';
import { admitWork, negotiate, residualsOf, runInference, type RouteContext } from './context.ts';

interface ProjectQuery {
  readonly steps: number;
  readonly seed: number;
  readonly corrupt: CorruptionKind | null;
  readonly normalize: 'auto' | 'none';
}

const QUERY_KEYS = new Set(['steps', 'seed', 'corrupt', 'normalize']);

function integerParam(value: unknown, name: string, code: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !/^[0-9]{1,10}$/.test(value) || Number(value) < min || Number(value) > max) {
    throw badRequest(code, `${name} must be an integer in [${min}, ${max}]`);
  }
  return Number(value);
}

export function parseProjectQuery(query: Record<string, unknown>, maxSteps: number): ProjectQuery {
  const unknown = Object.keys(query).find((key) => !QUERY_KEYS.has(key));
  if (unknown !== undefined) throw badRequest('unknown_field', `unknown query parameter "${unknown.slice(0, 40)}"`);
  const kind = query.corrupt;
  if (kind !== undefined && (typeof kind !== 'string' || !isCorruptionKind(kind))) {
    throw badRequest('invalid_corruption', 'corrupt must be one of noise, mask, sketch, grayscale');
  }
  const normalize = query.normalize ?? 'auto';
  if (normalize !== 'auto' && normalize !== 'none') throw badRequest('invalid_normalize', 'normalize must be auto or none');
  return {
    normalize,
    steps: integerParam(query.steps, 'steps', 'invalid_steps', 1, maxSteps, 1),
    seed: integerParam(query.seed, 'seed', 'invalid_seed', 0, 0xffffffff, 0),
    corrupt: kind ?? null,
  };
}

export function projectRouter(ctx: RouteContext): Router {
  const router = express.Router();
  const { config, dims } = ctx;
  const range = ctx.model.card.image.valueRange;
  router.post('/project', ctx.auth, admitWork(ctx), (req, res, next) => {
    res.locals.query = parseProjectQuery(req.query, config.maxSteps);
    res.locals.responseKind = negotiate(req);
    next();
  }, uploadAdmission(config.maxUploads), readUpload(config), async (req, res) => {
    const query = res.locals.query as ProjectQuery;
    const conventions = query.normalize === 'auto' ? ctx.model.card.inputConventions ?? null : null;
    const decoded = await decodeToTensor(res.locals.upload as Buffer, dims, range, config.maxInputPixels, conventions);
    const input = query.corrupt === null ? decoded : corrupt(query.corrupt, decoded, [dims.channels, dims.height, dims.width], new Rng(query.seed));
    const wantJson = res.locals.responseKind === 'json';
    const result = await runInference(ctx, res, { input, count: 1, steps: query.steps, keepSteps: wantJson });
    const final = result.outputs[result.outputs.length - 1]!;
    if (!wantJson) {
      res.type('image/png').send(await encodePng(final, 0, dims, range));
      return;
    }
    const residuals = residualsOf(result.residuals, 1, 0);
    const stepImages = await Promise.all(result.outputs.map(async (o) => (await encodePng(o, 0, dims, range)).toString('base64')));
    res.json({
      steps: query.steps,
      input: (await encodePng(input, 0, dims, range)).toString('base64'),
      normalize: conventions === null ? 'none' : 'auto',
      ...(conventions === null ? {} : { normalizedInput: (await encodePng(decoded, 0, dims, range)).toString('base64') }),
      output: stepImages[stepImages.length - 1]!,
      stepImages, residuals, oodScore: residuals[0]!,
      ...(query.corrupt === null ? {} : { corruption: { kind: query.corrupt, seed: query.seed } }),
      model: { name: ctx.model.card.name, version: ctx.model.card.version }, provider: ctx.generator.info().provider,
    });
  });
  return router;
}
