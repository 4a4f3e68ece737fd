/** Identifiers and API keys. */
import { createHash, randomBytes, randomUUID } from 'node:crypto';

/** A request, job or worker id (UUID v4, as the AI Horde uses). */
export function newId(): string {
  return randomUUID();
}

/** A registered account's API key: 16 random bytes in URL-safe base64, 22 characters (as the AI Horde). */
export function newApiKey(): string {
  return randomBytes(16).toString('base64url');
}

/** What the store keeps instead of the key: sha256 of a server-wide pepper and the key. */
export function hashApiKey(apiKey: string, pepper: string): string {
  return createHash('sha256').update(pepper).update(apiKey).digest('hex');
}

/** `name#id`, the AI Horde's account alias. */
export function accountAlias(account: { username: string; id: number }): string {
  return `${account.username}#${account.id}`;
}

/** Parses `name#id` into its id, or undefined. */
export function parseAlias(alias: string): number | undefined {
  const match = /#(\d{1,15})$/.exec(alias.trim());
  return match ? Number(match[1]) : undefined;
}
