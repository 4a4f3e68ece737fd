/**
 * The `apikey` header (spec §0.1). A route that needs it answers a missing header the way flask-restx
 * does (400, `errors.apikey`); the key itself is checked by the engine, which knows the anonymous key.
 */
import type { Credentials } from '@hordekit/core';
import type { Context } from 'hono';
import { validationFailed } from './errors.js';

const MAX_KEY_LENGTH = 128;

/** The caller's credentials; a 400 validation error when the header is missing. */
export function requireKey(c: Context): Credentials {
  const apiKey = optionalKey(c);
  if (apiKey === undefined) {
    throw validationFailed({ apikey: 'Missing required parameter in the HTTP headers' });
  }
  return { apiKey };
}

/** The caller's key when one was sent (endpoints where a key only raises privilege). */
export function optionalKey(c: Context): string | undefined {
  const apiKey = c.req.header('apikey')?.trim();
  if (!apiKey) return undefined;
  // Longer than any key we mint: it cannot match, and hashing it would be wasted work.
  return apiKey.length > MAX_KEY_LENGTH ? apiKey.slice(0, MAX_KEY_LENGTH) : apiKey;
}
