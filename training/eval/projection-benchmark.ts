// SPDX-License-Identifier: MIT
/**
 * @file The projection benchmark: for every corruption family (benchmark-families.ts) and the n
 * clean test images x, the inputs x̃, the 3×3 median baseline median(x̃), f(x̃) and f²(x̃) are scored
 * by classifier accuracy against the true label, Fréchet distance (classifier features) against the
 * n real test images, and mean PSNR to the clean x. The clean row also gives PSNR(f²(x), f(x)), f's
 * idempotence on data.
 */
import { shapeSize } from '../../common/fft.ts';
import type { InputConventions } from '../../common/model-card.ts';
import type { Rng } from '../../common/rng.ts';
import { benchmarkFamilies, corruptBatch, type FamilyKind } from './benchmark-families.ts';
import type { ClassifierRunner } from './classifier-runner.ts';
import { fitGaussian, frechetDistanceTo, frechetReference } from './frechet.ts';
import { medianFilter3x3 } from './median-filter.ts';
import { accuracy, classLosses, meanPsnr, type ClassLoss } from './metrics.ts';
import type { ModelRunner } from './model-runner.ts';
import type { PanelRow } from './panels.ts';

/** One score per column of the table. */
export interface Columns {
  /** x̃ itself (the identity baseline). */
  readonly input: number;
  /** The 3×3 median of x̃ (the classic denoiser baseline). */
  readonly median: number;
  readonly f1: number;
  readonly f2: number;
}

export interface FamilyScores {
  readonly id: string;
  readonly label: string;
  readonly kind: FamilyKind;
  /** A row with no target (benchmark-families.ts). */
  readonly diagnostic?: true;
  /** Fraction of the n images whose predicted class is the true label. */
  readonly accuracy: Columns;
  readonly frechet: Columns;
  /** Mean PSNR (dB) to the clean image, capped at 100 dB for exact copies. */
  readonly psnr: Columns;
  /** The most frequent class changes of digits read right in x̃ and wrong in f(x̃) (true → f), at most LOSSES_SHOWN. */
  readonly lostByF: readonly ClassLoss[];
  /** User-style: accuracy of f(x̃) with the upload only resized (normalize=none), and the count the normaliser refused. */
  readonly user?: { readonly accuracyUnnormalizedF1: number; readonly accuracyUnnormalizedInput: number; readonly rejected: number };
}

/** Class changes listed per family (FamilyScores.lostByF). */
export const LOSSES_SHOWN = 3;

export interface ProjectionBenchmark {
  readonly families: readonly FamilyScores[];
  /** PSNR(f²(x), f(x)) on the clean images, dB. */
  readonly cleanIdempotencePsnr: number;
  /** Real test images of the Fréchet reference. */
  readonly referenceImages: number;
  /** The card's conventions the user-style inputs were normalised to (null: resized only). */
  readonly conventions: InputConventions | null;
}

export interface BenchmarkInputs {
  readonly model: ModelRunner;
  readonly classifier: ClassifierRunner;
  readonly clean: Float32Array;
  readonly labels: Uint8Array;
  /** Classifier features of the real test images the FDs are measured against (other images than `clean` where the split allows). */
  readonly referenceFeatures: Float32Array;
  readonly featureDim: number;
  readonly conventions: InputConventions | null;
  readonly rng: Rng;
  /** Examples per family shown in the figure. */
  readonly examples: number;
  readonly log?: (msg: string) => void;
}

export async function projectionBenchmark(inputs: BenchmarkInputs): Promise<{ benchmark: ProjectionBenchmark; rows: PanelRow[] }> {
  const { model, classifier, clean, labels } = inputs;
  const shape = model.shape;
  const size = shapeSize(shape);
  const count = clean.length / size;
  const classes = classifier.classes;
  const dim = inputs.featureDim;
  const reference = frechetReference(fitGaussian(inputs.referenceFeatures, inputs.referenceFeatures.length / dim, dim));
  const score = async (images: Float32Array): Promise<{ accuracy: number; frechet: number; psnr: number; logits: Float32Array }> => {
    const c = await classifier.classify(images);
    return {
      logits: c.logits,
      accuracy: accuracy(c.logits, labels, classes),
      frechet: frechetDistanceTo(reference, fitGaussian(c.features, count, dim)),
      psnr: meanPsnr(images, clean, size),
    };
  };
  const families: FamilyScores[] = [];
  const rows: PanelRow[] = [];
  let cleanIdempotencePsnr = Number.NaN;
  for (const family of benchmarkFamilies(shape)) {
    inputs.log?.(`projection benchmark: ${family.label}`);
    const corrupted = await corruptBatch(family, clean, shape, inputs.rng.fork(family.id), { conventions: inputs.conventions });
    const x = corrupted.images;
    const median = medianFilter3x3(x, shape);
    const [f1, f2] = (await model.iterate(x, 2)) as [Float32Array, Float32Array];
    const s = { input: await score(x), median: await score(median), f1: await score(f1), f2: await score(f2) };
    const pick = (key: 'accuracy' | 'frechet' | 'psnr'): Columns => ({
      input: s.input[key],
      median: s.median[key],
      f1: s.f1[key],
      f2: s.f2[key],
    });
    const scores: FamilyScores = {
      id: family.id,
      label: family.label,
      kind: family.kind,
      ...(family.diagnostic && { diagnostic: true as const }),
      accuracy: pick('accuracy'),
      frechet: pick('frechet'),
      psnr: pick('psnr'),
      lostByF: classLosses(s.input.logits, s.f1.logits, labels, classes, LOSSES_SHOWN),
    };
    if (family.kind === 'clean') cleanIdempotencePsnr = meanPsnr(f2, f1, size);
    if (corrupted.unnormalized) {
      const [g1] = (await model.iterate(corrupted.unnormalized, 1)) as [Float32Array];
      const unnormalizedInput = await classifier.classify(corrupted.unnormalized);
      const unnormalizedF1 = await classifier.classify(g1);
      families.push({
        ...scores,
        user: {
          accuracyUnnormalizedF1: accuracy(unnormalizedF1.logits, labels, classes),
          accuracyUnnormalizedInput: accuracy(unnormalizedInput.logits, labels, classes),
          rejected: corrupted.rejected ?? 0,
        },
      });
    } else {
      families.push(scores);
    }
    const examples = Math.min(inputs.examples, count);
    rows.push({
      label: `${family.label}: x̃ | median(x̃) | f(x̃) | f²(x̃), ${examples} examples`,
      images: interleave([x, median, f1, f2], size, examples),
    });
  }
  return {
    benchmark: { families, cleanIdempotencePsnr, referenceImages: inputs.referenceFeatures.length / dim, conventions: inputs.conventions },
    rows,
  };
}

/** [a₀ b₀ c₀ d₀ a₁ b₁ …]: the first `examples` images of each batch, grouped per example. */
function interleave(batches: readonly Float32Array[], size: number, examples: number): Float32Array {
  const out = new Float32Array(examples * batches.length * size);
  for (let e = 0; e < examples; e++) {
    batches.forEach((b, j) => {
      out.set(b.subarray(e * size, (e + 1) * size), (e * batches.length + j) * size);
    });
  }
  return out;
}

/** Columns of the benchmark figure: `examples` groups of x̃, median, f, f². */
export function benchmarkColumns(examples: number): number {
  return 4 * examples;
}
