// SPDX-License-Identifier: MIT
/**
 * @file Optional API keys (API_KEYS). Keys are compared as SHA-256 digests with timingSafeEqual,
 * so neither the length nor a matching prefix leaks through timing; every configured key is checked.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { HttpError } from './errors.ts';

const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

function presentedKey(authorization: string | undefined, headerKey: string | undefined): string | null {
  if (headerKey !== undefined && headerKey !== '') return headerKey;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  return match?.[1] ?? null;
}

/** Pass-through when no keys are configured. */
export function apiKeyAuth(keys: readonly string[]): RequestHandler {
  const digests = keys.map(sha256);
  return (req, res, next) => {
    if (digests.length === 0) {
      next();
      return;
    }
    const key = presentedKey(req.get('authorization'), req.get('x-api-key'));
    const presented = key === null ? null : sha256(key);
    let ok = false;
    for (const digest of digests) ok = (presented !== null && timingSafeEqual(digest, presented)) || ok;
    if (ok) {
      next();
      return;
    }
    res.setHeader('WWW-Authenticate', 'Bearer realm="ign"');
    next(new HttpError(401, 'unauthorized', 'missing or invalid API key', { rejectReason: 'unauthorized' }));
  };
}
