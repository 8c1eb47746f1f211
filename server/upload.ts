// SPDX-License-Identifier: MIT
/**
 * @file Upload parsing for /project. multer runs with every limit set: one file, a few short text
 * fields (the route's parameters), and field names without brackets, so a crafted name like
 * `a[4294967294]` (which append-field would expand into a sparse array of that length) is refused in
 * microseconds. Every failure of the multipart step maps to a 4xx by its code, never its text (docs/serving.md, "Bad-input catalogue").
 */
import express, { type Request, type RequestHandler, type Response } from 'express';
import multer, { MulterError } from 'multer';
import { ClientGoneError, HttpError, badRequest } from './errors.ts';

const RAW_IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/webp'] as const;
/** Mutable copy for req.is / express.raw, made once rather than per request. */
const RAW_TYPE_LIST: string[] = [...RAW_IMAGE_TYPES];

export interface UploadOptions {
  readonly maxUploadBytes: number;
  /** Text fields accepted next to the file, and the longest value in bytes. */
  readonly maxFields: number;
  readonly maxFieldBytes: number;
}

const multerCodes: Readonly<Record<string, () => HttpError>> = {
  LIMIT_FILE_SIZE: () => new HttpError(413, 'file_too_large', 'the uploaded file is too large', { rejectReason: 'too_large' }),
  LIMIT_FILE_COUNT: () => badRequest('too_many_files', 'send exactly one file, in the field "image"'),
  LIMIT_PART_COUNT: () => badRequest('too_many_fields', 'too many parts: send the file in the field "image" and each parameter once'),
  LIMIT_FIELD_COUNT: () => badRequest('too_many_fields', 'too many text fields: send each parameter once'),
  LIMIT_FIELD_VALUE: () => badRequest('field_too_long', 'a text field value is too long'),
  LIMIT_UNEXPECTED_FILE: () => badRequest('unexpected_file', 'the file must be sent in the field "image"'),
};

function mapMulterError(err: unknown, req: Request): Error {
  if (req.readableAborted || req.socket.destroyed) return new ClientGoneError('client aborted the upload');
  if (err instanceof MulterError) {
    if ((err.code as string) === 'STREAM_DESTROYED') return new ClientGoneError('upload stream destroyed');
    const make = multerCodes[err.code];
    if (make !== undefined) return make();
    // LIMIT_FIELD_KEY / _NESTING / _ARRAY_INDEX, MISSING_FIELD_NAME, INVALID_FIELD_NAME.
    return badRequest(
      'malformed_multipart',
      'multipart body rejected: field names must be plain words (no brackets), of at most 100 characters',
    );
  }
  // busboy parse errors (missing boundary, truncated form, bad part headers).
  return badRequest('malformed_multipart', 'the multipart body could not be parsed');
}

/**
 * Reads the image into res.locals.upload (multipart field "image" or a raw image body) and the
 * multipart text fields into res.locals.fields ({} for a raw body), names unchecked: the route
 * validates them against its parameter table.
 */
export function readUpload({ maxUploadBytes, maxFields, maxFieldBytes }: UploadOptions): RequestHandler {
  const parseMultipart = multer({
    storage: multer.memoryStorage(),
    limits: {
      fileSize: maxUploadBytes,
      files: 1,
      fields: maxFields,
      parts: maxFields + 1,
      fieldSize: maxFieldBytes,
      fieldNestingDepth: 0,
      fieldArrayIndexLimit: 0,
      fieldNameSize: 100,
      headerPairs: 20,
    },
  }).single('image');
  const parseRaw = express.raw({ type: RAW_TYPE_LIST, limit: maxUploadBytes });
  return (req: Request, res: Response, next) => {
    if (typeof req.is('multipart/form-data') === 'string') {
      parseMultipart(req, res, (err: unknown) => {
        if (err !== undefined && err !== null) {
          next(mapMulterError(err, req));
          return;
        }
        // multer leaves req.body unset when it does not recognise the type (e.g. "boundary=" empty).
        const fields = (req.body ?? {}) as Record<string, unknown>;
        // busboy reports name="" as an empty name rather than a missing one.
        if (Object.hasOwn(fields, '')) {
          next(badRequest('malformed_multipart', 'a multipart text field has an empty name'));
          return;
        }
        if (req.file === undefined) {
          next(badRequest('missing_file', 'no file: send the image in the multipart field "image"'));
          return;
        }
        res.locals.upload = req.file.buffer;
        res.locals.fields = fields;
        next();
      });
      return;
    }
    if (typeof req.is(RAW_TYPE_LIST) !== 'string') {
      next(
        new HttpError(
          415,
          'unsupported_media_type',
          'send multipart/form-data with field "image", or a raw image/png, image/jpeg or image/webp body',
          { rejectReason: 'invalid' },
        ),
      );
      return;
    }
    // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- Express's Request is the IncomingMessage body-parser expects
    parseRaw(req, res, (err: unknown) => {
      if (err !== undefined && err !== null) {
        next(err);
        return;
      }
      const body: unknown = req.body;
      res.locals.upload = Buffer.isBuffer(body) ? body : Buffer.alloc(0);
      res.locals.fields = {};
      next();
    });
  };
}
