// SPDX-License-Identifier: MIT
/**
 * @file POST /project: f^k(x) for an uploaded image x, optionally corrupted first (paper Fig. 5).
 * Parameters (project-params.ts) come as multipart text fields or query parameters.
 * JSON answers carry every step and δ(x) = RMS(f(x) − x), the paper's out-of-distribution score.
 * `model` picks one of the served models (the default when absent).
 * normalize=auto (the default) brings the upload to the card's input conventions first when it
 * declares them (common/input-normalizer.ts); normalize=none only resizes.
 */
import express, { type Router } from 'express';
import { corrupt } from '../../common/corruptions.ts';
import { Rng } from '../../common/rng.ts';
import { decodeToTensor, encodePng } from '../image-codec.ts';
import { readUpload } from '../upload.ts';
import { admitWork, modelRef, negotiate, readyModel, residualsOf, runInference, type RouteContext } from './context.ts';
import { MAX_FIELD_BYTES, MAX_FORM_FIELDS, parseProjectParams, type ProjectParams } from './project-params.ts';

export function projectRouter(ctx: RouteContext): Router {
  const router = express.Router();
  const { config } = ctx;
  const limits = { maxSteps: config.maxSteps };
  const upload = readUpload({ maxUploadBytes: config.maxUploadBytes, maxFields: MAX_FORM_FIELDS, maxFieldBytes: MAX_FIELD_BYTES });
  router.post(
    '/project',
    ctx.auth,
    admitWork(ctx),
    (req, res, next) => {
      // A bad query string, or a model named there that cannot answer, is refused before the body
      // is read. A model named in a form field (or none, when there may be no default) is checked
      // once the fields are parsed.
      const early = parseProjectParams(req.query, {}, limits);
      if (early.model !== null) readyModel(ctx, early.model);
      res.locals.responseKind = negotiate(req);
      next();
    },
    ctx.uploads.middleware(),
    upload,
    async (req, res) => {
      const query: ProjectParams = parseProjectParams(req.query, res.locals.fields as Record<string, unknown>, limits);
      const served = readyModel(ctx, query.model ?? undefined);
      const { shape } = served;
      const range = served.model.card.image.valueRange;
      const conventions = (query.normalize ?? 'auto') === 'auto' ? (served.model.card.inputConventions ?? null) : null;
      const decoded = await decodeToTensor(res.locals.upload as Buffer, shape, range, config.maxInputPixels, conventions);
      (res.locals.releaseUpload as () => void)();
      const input = query.corrupt === null ? decoded : corrupt(query.corrupt, decoded, shape, new Rng(query.seed));
      const wantJson = res.locals.responseKind === 'json';
      const result = await runInference(ctx, served, res, { input: [input], count: 1, steps: query.steps, keepSteps: wantJson });
      const final = result.outputs[result.outputs.length - 1]!;
      if (!wantJson) {
        res.type('image/png').send(await encodePng(final, 0, shape, range));
        return;
      }
      const residuals = residualsOf(result.residuals, 1, 0);
      const stepImages = await Promise.all(result.outputs.map(async (o) => (await encodePng(o, 0, shape, range)).toString('base64')));
      res.json({
        steps: query.steps,
        input: (await encodePng(input, 0, shape, range)).toString('base64'),
        normalize: conventions === null ? 'none' : 'auto',
        ...(conventions === null ? {} : { normalizedInput: (await encodePng(decoded, 0, shape, range)).toString('base64') }),
        output: stepImages[stepImages.length - 1]!,
        stepImages,
        residuals,
        oodScore: residuals[0]!,
        ...(query.corrupt === null ? {} : { corruption: { kind: query.corrupt, seed: query.seed } }),
        model: modelRef(served),
        provider: served.generator.info().provider,
      });
    },
  );
  return router;
}
