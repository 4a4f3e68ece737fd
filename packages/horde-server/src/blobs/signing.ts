/**
 * Signed, expiring URLs for images (spec §7.4): the pop hands workers a PUT URL per job, the status hands
 * requesters a GET URL per image — no `apikey` needed, the signature is the permission. The job id comes
 * first in the path so that the URLs sort in the same order as their ids (horde_sdk sorts both lists).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export type SignedMethod = 'PUT' | 'GET';

function signature(secret: string, method: SignedMethod, key: string, expires: number): string {
  return createHmac('sha256', secret).update(`${method}\n${key}\n${expires}`).digest('base64url');
}

/** `?expires=…&sig=…` for `key`, valid until `expires` (seconds since the epoch). */
export function signQuery(secret: string, method: SignedMethod, key: string, expires: number): string {
  return `expires=${expires}&sig=${signature(secret, method, key, expires)}`;
}

/** True when the signature matches and has not expired. */
export function verifySignature(
  secret: string,
  method: SignedMethod,
  key: string,
  expires: string | undefined,
  sig: string | undefined,
  nowSeconds: number,
): boolean {
  if (!expires || !sig || !/^\d{1,12}$/.test(expires)) return false;
  const at = Number(expires);
  if (at < nowSeconds) return false;
  const expected = Buffer.from(signature(secret, method, key, at));
  const given = Buffer.from(sig);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
