// SPDX-License-Identifier: MIT
/**
 * The measurements of the evaluation, one function per report section. Each returns its figures and
 * the panel rows it contributes (the first `columns` images).
 */
import { corrupt, CORRUPTIONS, NOISE_STD, SKETCH_KERNEL_SIZE, type CorruptionKind } from '../../common/corruptions.ts';
import { shapeSize, type ImageShape } from '../../common/fft.ts';
import type { Rng } from '../../common/rng.ts';
import { straightPath } from '../../common/noise.ts';
import { frechetDistanceOfFeatures } from './frechet.ts';
import { accuracy, classHistogram, meanPsnr, meanRms, pixelErrors } from './metrics.ts';
import type { ClassifierRunner } from './classifier-runner.ts';
import type { ModelRunner } from './model-runner.ts';
import type { PanelRow } from './panels.ts';
import type { ClassifierSection, EvaluationReport, ProjectionScores } from './report.ts';

/** The first `count` images of a batch. */
export function head(images: Float32Array, shape: ImageShape, count: number): Float32Array {
  return images.subarray(0, Math.min(images.length, count * shapeSize(shape)));
}

export async function reconstructionAndDataResidual(
  model: ModelRunner,
  real: Float32Array,
): Promise<{
  reconstruction: EvaluationReport['reconstruction'];
  residualOnData: number;
}> {
  const size = shapeSize(model.shape);
  const [fx, ffx] = (await model.iterate(real, 2)) as [Float32Array, Float32Array];
  const { l1, mse } = pixelErrors(fx, real);
  return { reconstruction: { l1, mse, psnr: meanPsnr(fx, real, size) }, residualOnData: meanRms(ffx, fx, size) };
}

/** ‖f(f(z)) − f(z)‖ against ‖f(z) − z‖, both mean per-image RMS. */
export function idempotenceOfSamples(
  z: Float32Array,
  f1: Float32Array,
  f2: Float32Array,
  shape: ImageShape,
): { residual: number; shift: number; ratio: number } {
  const size = shapeSize(shape);
  const residual = meanRms(f2, f1, size);
  const shift = meanRms(f1, z, size);
  return { residual, shift, ratio: shift > 0 ? residual / shift : 0 };
}

const CORRUPTION_LABELS: Record<CorruptionKind, string> = {
  noise: `noise σ=${NOISE_STD}`,
  mask: 'mask (half-side square)',
  sketch: `sketch k=${SKETCH_KERNEL_SIZE}`,
  grayscale: 'grayscale',
};

/** Corruptions that change a `channels`-channel image (grayscale is the identity for 1 channel). */
function corruptionsFor(channels: number): CorruptionKind[] {
  return CORRUPTIONS.filter((k) => k !== 'grayscale' || channels > 1);
}

export async function projection(
  model: ModelRunner,
  clean: Float32Array,
  rng: Rng,
  columns: number,
): Promise<{
  scores: Record<string, ProjectionScores>;
  rows: PanelRow[];
}> {
  const { shape } = model;
  const size = shapeSize(shape);
  const count = clean.length / size;
  const scores: Record<string, ProjectionScores> = {};
  const rows: PanelRow[] = [];
  for (const kind of corruptionsFor(shape[0])) {
    const corrupted = new Float32Array(clean.length);
    const kindRng = rng.fork(kind);
    for (let i = 0; i < count; i++) corrupted.set(corrupt(kind, clean.subarray(i * size, (i + 1) * size), shape, kindRng), i * size);
    const [f1, f2] = (await model.iterate(corrupted, 2)) as [Float32Array, Float32Array];
    scores[kind] = { corrupted: meanPsnr(corrupted, clean, size), f1: meanPsnr(f1, clean, size), f2: meanPsnr(f2, clean, size) };
    const label = CORRUPTION_LABELS[kind];
    rows.push(
      { label: `${label}: clean x`, images: head(clean, shape, columns) },
      { label: `${label}: corrupted x̃`, images: head(corrupted, shape, columns) },
      { label: `${label}: f(x̃)`, images: head(f1, shape, columns) },
      { label: `${label}: f(f(x̃))`, images: head(f2, shape, columns) },
    );
  }
  return { scores, rows };
}

/** `strips` rows of f((1−t)·z_a + t·z_b) for t = 0 … 1 in `steps` steps. */
export async function interpolationRows(
  model: ModelRunner,
  noise: (count: number) => Float32Array,
  strips: number,
  steps: number,
): Promise<PanelRow[]> {
  const size = shapeSize(model.shape);
  const ends = noise(2 * strips);
  const lines = new Float32Array(strips * steps * size);
  for (let s = 0; s < strips; s++) {
    const a = ends.subarray(2 * s * size, (2 * s + 1) * size);
    const b = ends.subarray((2 * s + 1) * size, (2 * s + 2) * size);
    straightPath(a, b, steps, lines, s * steps * size);
  }
  const [out] = (await model.generate(lines, 1)) as [Float32Array];
  return Array.from({ length: strips }, (_, s) => ({
    label: `interpolation ${s + 1}: f((1−t)·z_a + t·z_b), t = 0 … 1`,
    images: out.subarray(s * steps * size, (s + 1) * steps * size),
  }));
}

export interface ClassifierInputs {
  readonly classifier: ClassifierRunner;
  readonly classifierDir: string;
  readonly testAccuracy: number;
  readonly realTest: Float32Array;
  readonly realTestLabels: Uint8Array;
  readonly realTrain: Float32Array;
  readonly generated: readonly [Float32Array, Float32Array, Float32Array];
}

/** Fréchet distances, class histograms and accuracy on the classifier's logits and features (and the real test features, reused by the benchmark). */
export async function classifierSection(inputs: ClassifierInputs): Promise<{ section: ClassifierSection; realTestFeatures: Float32Array }> {
  const { classifier } = inputs;
  const classes = classifier.classes;
  const test = await classifier.classify(inputs.realTest);
  const train = await classifier.classify(inputs.realTrain);
  const gen = [];
  for (const g of inputs.generated) gen.push(await classifier.classify(g));
  const countOf = (c: { logits: Float32Array }): number => c.logits.length / classes;
  const dim = test.features.length / countOf(test);
  const fd = (c: { features: Float32Array; logits: Float32Array }): number =>
    frechetDistanceOfFeatures(c.features, countOf(c), test.features, countOf(test), dim);
  const [g1, g2, g3] = gen as [typeof test, typeof test, typeof test];
  const section: ClassifierSection = {
    classifierDir: inputs.classifierDir,
    featureDim: dim,
    testAccuracy: inputs.testAccuracy,
    sampleAccuracy: accuracy(test.logits, inputs.realTestLabels, classes),
    frechet: { k1: fd(g1), k2: fd(g2), k3: fd(g3), realTrainVsTest: fd(train) },
    histograms: {
      k1: classHistogram(g1.logits, classes),
      k2: classHistogram(g2.logits, classes),
      k3: classHistogram(g3.logits, classes),
      realTest: classHistogram(test.logits, classes),
    },
  };
  return { section, realTestFeatures: test.features };
}
