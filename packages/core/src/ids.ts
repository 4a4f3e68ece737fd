/** Identifiers and API keys. */
import { createHash, randomBytes, randomFillSync } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';

/**
 * A request, job or worker id: a UUID, as the AI Horde uses, in its time-ordered version 7 (74 random bits,
 * still unguessable). Time order keeps new ids at the end of the database's id indexes, so an insert
 * touches the index page the previous one did instead of a random one — fewer pages written per job.
 */
export function newId(): string {
  const random = randomBlock();
  const now = Date.now();
  // Monotonic within a millisecond, as RFC 9562 suggests: a counter seeded from the random bytes.
  if (now > clock.msecs) {
    clock.msecs = now;
    clock.seq = ((random[6]! & 0x7f) << 24) | (random[7]! << 16) | (random[8]! << 8) | random[9]!;
  } else {
    clock.seq = (clock.seq + 1) | 0;
    if (clock.seq === 0) clock.msecs++;
  }
  return uuidv7({ random, msecs: clock.msecs, seq: clock.seq });
}

const clock = { msecs: Number.NEGATIVE_INFINITY, seq: 0 };

// Random bytes for ids, drawn from a pool: one `randomFillSync` per 256 ids instead of one call each.
const POOL = Buffer.alloc(16 * 256);
let poolOffset = POOL.length;

function randomBlock(): Uint8Array {
  if (poolOffset >= POOL.length) {
    randomFillSync(POOL);
    poolOffset = 0;
  }
  const block = POOL.subarray(poolOffset, poolOffset + 16);
  poolOffset += 16;
  return block;
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
