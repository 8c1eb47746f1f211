// SPDX-License-Identifier: MIT
/**
 * @file Prometheus metrics of one app instance (docs/serving.md, "Metrics"). Everything lives in the
 * registry passed in, so two apps in one test process never collide; default process metrics are
 * added by main.ts only. Label values come from closed sets (route templates, codes, reasons, and
 * the names of the models loaded at boot: `model` never carries a name a client made up).
 */
import { Counter, Gauge, Histogram, Registry, exponentialBuckets } from 'prom-client';
import type { RejectReason } from './errors.ts';

export interface ServerMetrics {
  readonly registry: Registry;
  readonly requests: Counter<'route' | 'code'>;
  readonly requestDuration: Histogram<'route'>;
  readonly queueDuration: Histogram<'model'>;
  readonly inferenceDuration: Histogram<'ep' | 'model'>;
  readonly batchSize: Histogram<'model'>;
  readonly queueDepth: Gauge<'model'>;
  readonly inflight: Gauge;
  readonly rejected: Counter<'reason'>;
  readonly imagesGenerated: Counter<'model'>;
  readonly refinementSteps: Counter<'model'>;
  readonly epFallback: Counter<'model'>;
  readonly workerRestarts: Counter<'model'>;
  readonly modelInfo: Gauge<'model' | 'version' | 'ep' | 'ort_version'>;
  readonly idempotenceResidual: Histogram<'model'>;
}

function powersOfTwoUpTo(max: number): number[] {
  const buckets: number[] = [];
  for (let b = 1; b < max; b *= 2) buckets.push(b);
  return [...buckets, max];
}

export function createMetrics(maxBatchSize: number, registry: Registry = new Registry()): ServerMetrics {
  const registers = [registry];
  return {
    registry,
    requests: new Counter({
      name: 'ign_requests_total',
      help: 'HTTP requests by route template and status code',
      labelNames: ['route', 'code'],
      registers,
    }),
    requestDuration: new Histogram({
      name: 'ign_request_duration_seconds',
      help: 'HTTP request duration',
      labelNames: ['route'],
      buckets: exponentialBuckets(0.005, 2, 14),
      registers,
    }),
    queueDuration: new Histogram({
      name: 'ign_queue_duration_seconds',
      help: 'Time a request waited in the batching queue',
      labelNames: ['model'],
      buckets: exponentialBuckets(0.001, 2, 16),
      registers,
    }),
    inferenceDuration: new Histogram({
      name: 'ign_inference_duration_seconds',
      help: 'Compute time of one batch (all steps)',
      labelNames: ['ep', 'model'],
      buckets: exponentialBuckets(0.001, 2, 16),
      registers,
    }),
    batchSize: new Histogram({
      name: 'ign_batch_size',
      help: 'Images per dispatched batch',
      labelNames: ['model'],
      buckets: powersOfTwoUpTo(maxBatchSize),
      registers,
    }),
    queueDepth: new Gauge({ name: 'ign_queue_depth', help: 'Requests waiting in the batching queue', labelNames: ['model'], registers }),
    inflight: new Gauge({ name: 'ign_inflight_requests', help: 'Requests being handled', registers }),
    rejected: new Counter({ name: 'ign_rejected_requests_total', help: 'Requests rejected, by reason', labelNames: ['reason'], registers }),
    imagesGenerated: new Counter({
      name: 'ign_images_generated_total',
      help: 'Images produced by /generate, /project and v2 infer',
      labelNames: ['model'],
      registers,
    }),
    refinementSteps: new Counter({
      name: 'ign_refinement_steps_total',
      help: 'Applications of f, summed over images',
      labelNames: ['model'],
      registers,
    }),
    epFallback: new Counter({
      name: 'ign_ep_fallback_total',
      help: 'Times the CUDA execution provider was wanted but CPU was used',
      labelNames: ['model'],
      registers,
    }),
    workerRestarts: new Counter({
      name: 'ign_worker_restarts_total',
      help: 'Inference workers respawned after dying',
      labelNames: ['model'],
      registers,
    }),
    modelInfo: new Gauge({
      name: 'ign_model_info',
      help: 'Served model (value 1)',
      labelNames: ['model', 'version', 'ep', 'ort_version'],
      registers,
    }),
    idempotenceResidual: new Histogram({
      name: 'ign_idempotence_residual',
      help: 'RMS per pixel of f^k - f^(k-1), per image',
      labelNames: ['model'],
      buckets: exponentialBuckets(0.0001, 4, 10),
      registers,
    }),
  };
}

export function countRejection(metrics: ServerMetrics, reason: RejectReason | undefined): void {
  if (reason !== undefined) metrics.rejected.inc({ reason });
}
