/**
 * Reading a JSON body defensively: a size cap, broken JSON answered with 400 instead of a crash, NUL
 * bytes refused with the AI Horde's `NulByteInPayload` (spec §0.2), and nesting deeper than any real
 * request bounded so that nothing downstream recurses without end.
 */
import type { Context } from 'hono';
import { HttpError } from './errors.js';

/** Deeper than any AI Horde body (the deepest real one is about 4 levels). */
const MAX_DEPTH = 32;

export const NUL_MESSAGE = 'Request payload may not contain NUL (0x00) bytes.';

/** Parses the body as JSON; an empty body reads as `{}`. */
export async function readJson(c: Context, maxBytes: number): Promise<unknown> {
  const declared = Number(c.req.header('content-length') ?? 0);
  if (declared > maxBytes) throw tooLarge(maxBytes);
  const raw = await c.req.arrayBuffer();
  if (raw.byteLength > maxBytes) throw tooLarge(maxBytes);
  const text = new TextDecoder().decode(raw);
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new HttpError('BadRequest', 'The request body is not valid JSON.');
  }
  if (text.includes('\u0000') || text.includes('\\u0000')) assertNoNul(value);
  assertDepth(value);
  return value;
}

function tooLarge(maxBytes: number): HttpError {
  return new HttpError(
    'PayloadTooLarge',
    `The request body is larger than this horde accepts (${Math.round(maxBytes / 1_048_576)} MiB).`,
  );
}

/** Throws `NulByteInPayload` when any string (key or value) holds U+0000. */
export function assertNoNul(value: unknown): void {
  const stack = [value];
  while (stack.length) {
    const item = stack.pop();
    if (typeof item === 'string') {
      if (item.includes('\u0000')) throw new HttpError('NulByteInPayload', NUL_MESSAGE);
    } else if (item && typeof item === 'object') {
      for (const [key, child] of Object.entries(item)) {
        if (key.includes('\u0000')) throw new HttpError('NulByteInPayload', NUL_MESSAGE);
        stack.push(child);
      }
    }
  }
}

function assertDepth(value: unknown): void {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [item, depth] = stack.pop()!;
    if (!item || typeof item !== 'object') continue;
    if (depth >= MAX_DEPTH) {
      throw new HttpError('BadRequest', `The request body is nested deeper than ${MAX_DEPTH} levels.`);
    }
    for (const child of Object.values(item)) stack.push([child, depth + 1]);
  }
}
