// SPDX-License-Identifier: MIT
/**
 * @file Upload admission for /project: at most MAX_UPLOADS bodies are read and decoded at once,
 * admitted BEFORE multer reads a byte (multer's memoryStorage has no global bound, so this is what
 * bounds upload memory to about MAX_UPLOADS × MAX_UPLOAD_BYTES). A request that finds every slot
 * taken waits in a bounded FIFO (MAX_UPLOAD_QUEUE) for at most UPLOAD_WAIT_MS; only a full wait
 * queue or an expired wait is answered 503 too_many_uploads with Retry-After, and that connection is
 * closed because its body was never read. A waiting body stays in the kernel's socket buffers (TCP
 * flow control), not in this process. A slot is released once the image is decoded (the route calls
 * `res.locals.releaseUpload`) or when the response closes, whichever comes first.
 */
import type { RequestHandler, Response } from 'express';
import { ClientGoneError, HttpError } from './errors.ts';

export interface AdmissionOptions {
  readonly maxUploads: number;
  readonly maxWaiting: number;
  readonly maxWaitMs: number;
}

export interface AdmissionStats {
  readonly active: number;
  readonly waiting: number;
  /** Highest values since start: what bounds memory during a burst. */
  readonly peakActive: number;
  readonly peakWaiting: number;
}

interface Waiter {
  readonly grant: () => void;
}

const tooMany = (message: string): HttpError =>
  new HttpError(503, 'too_many_uploads', message, { retryAfterSeconds: 1, closeConnection: true, rejectReason: 'queue_full' });

export class UploadAdmission {
  private active = 0;
  private readonly waiting: Waiter[] = [];
  private peakActive = 0;
  private peakWaiting = 0;

  constructor(private readonly options: AdmissionOptions) {}

  stats(): AdmissionStats {
    return { active: this.active, waiting: this.waiting.length, peakActive: this.peakActive, peakWaiting: this.peakWaiting };
  }

  middleware(): RequestHandler {
    return (_req, res, next) => {
      if (this.active < this.options.maxUploads) {
        this.occupy(res);
        next();
        return;
      }
      if (this.waiting.length >= this.options.maxWaiting) {
        next(tooMany('too many uploads in progress, retry later'));
        return;
      }
      this.wait(res, next);
    };
  }

  private wait(res: Response, next: (err?: unknown) => void): void {
    const leave = (): void => {
      clearTimeout(timer);
      res.off('close', onClose);
      const index = this.waiting.indexOf(waiter);
      if (index >= 0) this.waiting.splice(index, 1);
    };
    const waiter: Waiter = {
      grant: () => {
        leave();
        this.occupy(res);
        next();
      },
    };
    const timer = setTimeout(() => {
      leave();
      next(tooMany(`no upload slot freed within ${this.options.maxWaitMs} ms, retry later`));
    }, this.options.maxWaitMs);
    const onClose = (): void => {
      leave();
      next(new ClientGoneError('client left while waiting for an upload slot'));
    };
    res.once('close', onClose);
    this.waiting.push(waiter);
    this.peakWaiting = Math.max(this.peakWaiting, this.waiting.length);
  }

  private occupy(res: Response): void {
    this.active++;
    this.peakActive = Math.max(this.peakActive, this.active);
    let held = true;
    const release = (): void => {
      if (!held) return;
      held = false;
      res.off('close', release);
      this.active--;
      this.waiting[0]?.grant();
    };
    res.locals.releaseUpload = release;
    res.once('close', release);
  }
}
