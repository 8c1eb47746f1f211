// SPDX-License-Identifier: MIT
/**
 * @file Seeded, resumable epoch iterator over a dataset. Each epoch visits a fresh Fisher–Yates
 * permutation of the n images in batches of exactly `batchSize` (the training graph has a fixed
 * batch dimension); the last n mod batchSize images of an epoch's permutation are dropped.
 *
 * State = (epoch, position in the epoch's permutation, rng state at the epoch's start): restoring
 * it regenerates the same permutation, so a resumed run sees the same batches as an uninterrupted
 * one.
 */
import type { ImageShape } from '../../common/fft.ts';
import { Rng, type RngState } from '../../common/rng.ts';
import { DatasetError } from './errors.ts';

/** What the batcher needs from a dataset. */
export interface BatchSource {
  readonly n: number;
  readonly shape: ImageShape;
  /** Writes images indices[k] (values in [-1, 1]) to out[k·C·H·W …]. */
  gather(indices: ArrayLike<number>, out: Float32Array): void;
}

export interface BatcherState {
  readonly epoch: number;
  readonly position: number;
  readonly rngState: RngState;
  /** Recorded to refuse resuming against a different dataset size or batch size. */
  readonly n: number;
  readonly batchSize: number;
}

export interface Batch {
  /** batchSize×C×H×W, a fresh array per batch. */
  readonly images: Float32Array;
  readonly indices: Uint32Array;
  readonly epoch: number;
  /** Batch number within the epoch, from 0. */
  readonly batchInEpoch: number;
}

export interface BatcherOptions {
  readonly batchSize: number;
  readonly seed: number;
}

export class EpochBatcher implements Iterable<Batch> {
  readonly batchSize: number;
  readonly batchesPerEpoch: number;
  private readonly rng: Rng;
  private epoch: number;
  private position: number;
  private epochStart: RngState;
  private order: Uint32Array;

  constructor(
    private readonly source: BatchSource,
    options: BatcherOptions,
    resume?: BatcherState,
  ) {
    const { batchSize } = options;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new DatasetError(`batch size must be a positive integer, got ${batchSize}`);
    if (source.n < batchSize) throw new DatasetError(`dataset has ${source.n} images, fewer than one batch of ${batchSize}`);
    this.batchSize = batchSize;
    this.batchesPerEpoch = Math.floor(source.n / batchSize);
    if (resume) checkResumable(resume, source.n, batchSize);
    this.rng = resume ? Rng.fromState(resume.rngState) : new Rng(options.seed);
    this.epoch = resume?.epoch ?? 0;
    this.position = resume?.position ?? 0;
    this.epochStart = this.rng.state();
    this.order = this.permutation();
  }

  /** A fresh Fisher–Yates permutation of 0…n−1. */
  private permutation(): Uint32Array {
    const order = new Uint32Array(this.source.n);
    for (let i = 0; i < order.length; i++) order[i] = i;
    return this.rng.shuffle(order);
  }

  next(): Batch {
    if (this.position + this.batchSize > this.source.n) {
      this.epoch += 1;
      this.position = 0;
      this.epochStart = this.rng.state();
      this.order = this.permutation();
    }
    const indices = this.order.slice(this.position, this.position + this.batchSize);
    const [c, h, w] = this.source.shape;
    const images = new Float32Array(this.batchSize * c * h * w);
    this.source.gather(indices, images);
    const batchInEpoch = this.position / this.batchSize;
    this.position += this.batchSize;
    return { images, indices, epoch: this.epoch, batchInEpoch };
  }

  /** Snapshot to store in a checkpoint; pass it back as `resume`. */
  state(): BatcherState {
    return { epoch: this.epoch, position: this.position, rngState: this.epochStart, n: this.source.n, batchSize: this.batchSize };
  }

  *[Symbol.iterator](): Iterator<Batch> {
    for (;;) yield this.next();
  }
}

function checkResumable(state: BatcherState, n: number, batchSize: number): void {
  if (state.n !== n || state.batchSize !== batchSize) {
    throw new DatasetError(`cannot resume batches saved for n=${state.n}, batch ${state.batchSize} with n=${n}, batch ${batchSize}`);
  }
  if (!Number.isInteger(state.epoch) || state.epoch < 0 || !Number.isInteger(state.position) || state.position < 0 || state.position > n) {
    throw new DatasetError(`invalid batcher state: epoch ${state.epoch}, position ${state.position}`);
  }
}
