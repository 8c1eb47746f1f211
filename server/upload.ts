// SPDX-License-Identifier: MIT
/**
 * @file Upload admission and parsing for /project. A semaphore admits MAX_UPLOADS bodies at once
 * BEFORE multer reads a byte (memoryStorage has no global bound on buffered bodies). multer runs
 * with every limit set — no text fields at all, so crafted names like `a[4294967294]` fail at once
 * instead of building a 4-billion-slot array — and every failure of the multipart step maps to a
 * 4xx by its code, never its text (docs/serving.md, "Bad-input catalogue").
 */
import express, { type Request, type RequestHandler, type Response } from 'express';
import multer, { MulterError } from 'multer';
import { ClientGoneError, HttpError, badRequest } from './errors.ts';

const RAW_IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/webp'] as const;
/** Mutable copy for req.is / express.raw, made once rather than per request. */
const RAW_TYPE_LIST: string[] = [...RAW_IMAGE_TYPES];

export interface UploadOptions {
  readonly maxUploadBytes: number;
  readonly maxUploads: number;
}

const multerCodes: Readonly<Record<string, () => HttpError>> = {
  LIMIT_FILE_SIZE: () => new HttpError(413, 'file_too_large', 'the uploaded file is too large', { rejectReason: 'too_large' }),
  LIMIT_FILE_COUNT: () => badRequest('too_many_files', 'send exactly one file, in the field "image"'),
  LIMIT_PART_COUNT: () => badRequest('too_many_files', 'send exactly one part: the file in the field "image"'),
  LIMIT_UNEXPECTED_FILE: () => badRequest('unexpected_file', 'the file must be sent in the field "image"'),
};

function mapMulterError(err: unknown, req: Request): Error {
  if (req.readableAborted || req.socket.destroyed) return new ClientGoneError('client aborted the upload');
  if (err instanceof MulterError) {
    if ((err.code as string) === 'STREAM_DESTROYED') return new ClientGoneError('upload stream destroyed');
    const make = multerCodes[err.code];
    if (make !== undefined) return make();
    // LIMIT_FIELD_*, MISSING_FIELD_NAME, INVALID_FIELD_NAME: text fields are not accepted at all.
    return badRequest('malformed_multipart', 'multipart body rejected: only one file field "image" is accepted; pass steps, seed and corrupt in the query string');
  }
  // busboy parse errors (missing boundary, truncated form, bad part headers).
  return badRequest('malformed_multipart', 'the multipart body could not be parsed');
}

/** Non-blocking counting semaphore; rejected uploads are told to close the connection. */
export function uploadAdmission(maxUploads: number): RequestHandler {
  let active = 0;
  return (_req, res, next) => {
    if (active >= maxUploads) {
      next(new HttpError(503, 'too_many_uploads', 'too many uploads in progress, retry later', { retryAfterSeconds: 1, closeConnection: true, rejectReason: 'queue_full' }));
      return;
    }
    active++;
    res.once('close', () => { active--; });
    next();
  };
}

/** Reads the image into res.locals.upload from multipart field "image" or a raw image body. */
export function readUpload({ maxUploadBytes }: UploadOptions): RequestHandler {
  const parseMultipart = multer({
    storage: multer.memoryStorage(),
    limits: {
      fileSize: maxUploadBytes, files: 1, parts: 1, fields: 0, fieldNestingDepth: 0, fieldArrayIndexLimit: 0,
      fieldNameSize: 100, headerPairs: 20,
    },
  }).single('image');
  const parseRaw = express.raw({ type: RAW_TYPE_LIST, limit: maxUploadBytes });
  return (req: Request, res: Response, next) => {
    if (typeof req.is('multipart/form-data') === 'string') {
      parseMultipart(req, res, (err: unknown) => {
        if (err !== undefined && err !== null) { next(mapMulterError(err, req)); return; }
        if (req.file === undefined) { next(badRequest('missing_file', 'no file: send the image in the multipart field "image"')); return; }
        res.locals.upload = req.file.buffer;
        next();
      });
      return;
    }
    if (typeof req.is(RAW_TYPE_LIST) !== 'string') {
      next(new HttpError(415, 'unsupported_media_type', 'send multipart/form-data with field "image", or a raw image/png, image/jpeg or image/webp body', { rejectReason: 'invalid' }));
      return;
    }
    // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- Express's Request is the IncomingMessage body-parser expects
    parseRaw(req, res, (err: unknown) => {
      if (err !== undefined && err !== null) { next(err); return; }
      const body: unknown = req.body;
      res.locals.upload = Buffer.isBuffer(body) ? body : Buffer.alloc(0);
      next();
    });
  };
}
