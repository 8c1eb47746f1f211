// SPDX-License-Identifier: MIT
/**
 * @file The one error path of the server (docs/serving.md, "Error contract"). Handlers throw HttpError; the
 * single error middleware maps HttpError, body-parser errors and anything unknown to
 * `{"error":{"code","message"},"requestId"}` (or `{"error": msg}` under /v2, the Open Inference
 * Protocol shape). Unknown errors become a generic 500: library text and stacks never reach clients.
 */
import type { ErrorRequestHandler, Request, Response } from 'express';
import type { Logger } from 'pino';

export interface HttpErrorOptions {
  readonly retryAfterSeconds?: number;
  /** Ask the client to drop the connection (rejected uploads: the body was never read). */
  readonly closeConnection?: boolean;
  /** Label for ign_rejected_requests_total. */
  readonly rejectReason?: RejectReason;
}

export type RejectReason =
  'queue_full' | 'queue_timeout' | 'deadline' | 'too_large' | 'bad_image' | 'invalid' | 'client_gone' | 'unauthorized' | 'not_ready';

export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly options: HttpErrorOptions = {},
  ) {
    super(message);
  }
}

/** The client went away: nothing to answer, nothing counted as a server error. */
export class ClientGoneError extends Error {
  override readonly name = 'ClientGoneError';
}

export const badRequest = (code: string, message: string): HttpError => new HttpError(400, code, message, { rejectReason: 'invalid' });

/** body-parser (express.json / express.raw) failures, keyed by its stable `type` field. */
const bodyParserErrors: Readonly<Record<string, [number, string, string, RejectReason]>> = {
  'entity.parse.failed': [400, 'malformed_json', 'request body is not valid JSON', 'invalid'],
  'entity.too.large': [413, 'body_too_large', 'request body is too large', 'too_large'],
  'entity.verify.failed': [400, 'invalid_body', 'request body failed verification', 'invalid'],
  'charset.unsupported': [415, 'unsupported_charset', 'only utf-8 JSON is accepted', 'invalid'],
  'encoding.unsupported': [415, 'unsupported_encoding', 'unsupported Content-Encoding', 'invalid'],
  'request.size.invalid': [400, 'invalid_body', 'request size did not match Content-Length', 'invalid'],
  'stream.encoding.set': [500, 'internal_error', 'internal error', 'invalid'],
};

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function fromBodyParser(err: unknown): HttpError | ClientGoneError | null {
  if (typeof err !== 'object' || err === null) return null;
  const type = 'type' in err && typeof err.type === 'string' ? err.type : '';
  if (type === 'request.aborted') return new ClientGoneError('client aborted the body');
  // strict mode refuses valid JSON that is not an object or array (a bare string or number).
  if (type === 'entity.parse.failed' && 'body' in err && typeof err.body === 'string' && isJson(err.body)) {
    return badRequest('invalid_body', 'the body must be a JSON object');
  }
  const row = bodyParserErrors[type];
  if (row !== undefined) return new HttpError(row[0], row[1], row[2], { rejectReason: row[3] });
  const status = 'status' in err && typeof err.status === 'number' ? err.status : 500;
  // A corrupt gzip stream arrives as a zlib error with status 400 and no stable type.
  if (status >= 400 && status < 500) return badRequest('invalid_body', 'request body could not be read');
  return null;
}

function toHttpError(err: unknown): HttpError | ClientGoneError {
  if (err instanceof HttpError || err instanceof ClientGoneError) return err;
  return fromBodyParser(err) ?? new HttpError(500, 'internal_error', 'internal error');
}

function isOipPath(path: string): boolean {
  return path === '/v2' || path.startsWith('/v2/');
}

function requestIdOf(res: Response): string {
  const id: unknown = res.locals.requestId;
  return typeof id === 'string' ? id : 'unknown';
}

/** Writes the error body; the caller has decided the request is still answerable. */
function sendError(req: Request, res: Response, error: HttpError): void {
  const { retryAfterSeconds, closeConnection } = error.options;
  if (retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(retryAfterSeconds));
  if (closeConnection === true) res.setHeader('Connection', 'close');
  res.locals.errorCode = error.code;
  res.locals.rejectReason = error.options.rejectReason;
  const body = isOipPath(req.path)
    ? { error: error.message }
    : { error: { code: error.code, message: error.message }, requestId: requestIdOf(res) };
  res.status(error.status).json(body);
}

export function errorMiddleware(logger: Logger): ErrorRequestHandler {
  // Express recognises error middleware by its four parameters, so `next` stays (and is unused).
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  return (err: unknown, req, res, next) => {
    const mapped = toHttpError(err);
    const requestId = requestIdOf(res);
    if (mapped instanceof ClientGoneError || res.headersSent || req.socket.destroyed) {
      res.locals.rejectReason = 'client_gone';
      logger.info({ requestId, method: req.method, path: req.path }, 'client gone before the response');
      res.destroy();
      return;
    }
    if (mapped.status >= 500 && mapped.code === 'internal_error') {
      logger.error({ requestId, method: req.method, path: req.path, err }, 'unhandled error');
    }
    sendError(req, res, mapped);
  };
}
