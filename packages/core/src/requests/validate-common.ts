/**
 * The shared half of request validation: turning a zod failure into the AI Horde's
 * `{ errors: { field: reason } }` shape, the NUL-byte guard, and the rules every generate request obeys.
 * Everything here throws `HordeError` and nothing else, whatever the input.
 */
import type { z } from 'zod';
import { HordeError, type ValidationErrors } from '../errors.js';
import type { ModelReference } from '../models/types.js';

/** What the engine knows about the requester when it validates a generate request. */
export interface ValidationContext {
  /** The requesting user's roles (spec §2.7). */
  roles: { trusted: boolean; special: boolean; service: boolean; education: boolean };
  /** Baselines and source-image needs of the requested models. */
  models: ModelReference;
  /** Image prompts with more whitespace-separated words are rejected (`InvalidPromptSize`). Upstream: 7,500. */
  maxPromptWords: number;
}

/** Request fields both image and text generate bodies share. */
export interface CommonRequestFields {
  webhook?: string | undefined;
  proxied_account?: string | undefined;
  disable_batching: boolean;
  params: { n: number };
}

/** The public horde keeps at most this many `workers` ids; extra ones are dropped silently. */
export const MAX_WORKER_IDS = 5;

/** A hostile payload can carry millions of bad array entries; the error map stops listing them here. */
const MAX_REPORTED_ERRORS = 100;

/**
 * Parses `input` with `schema` after the NUL-byte check, and turns any failure into a `HordeError`:
 * schema failures become `ValidationError` with the per-field `errors` map. `precheck` runs between the two,
 * for rules that must win over the schema's own message (an empty prompt is `MissingPrompt`, not a
 * validation error). Anything unexpected the input causes (a throwing getter, a proxy) becomes `BadRequest`.
 */
export function parseWith<S extends z.ZodType>(
  schema: S,
  input: unknown,
  precheck?: (input: unknown) => void,
): z.output<S> {
  let result: z.ZodSafeParseResult<z.output<S>>;
  try {
    assertNoNulBytes(input);
    precheck?.(input);
    result = schema.safeParse(input, { reportInput: true });
  } catch (cause) {
    if (cause instanceof HordeError) throw cause;
    throw new HordeError('BadRequest', 'The request payload could not be read as JSON data.', { cause });
  }
  if (!result.success) throw validationError(formatZodError(result.error));
  return result.data;
}

/** The error flask-restx answers with when the body does not match the input model. */
export function validationError(errors: ValidationErrors): HordeError {
  return new HordeError('ValidationError', 'Input payload validation failed', { errors });
}

/** `{ "<dotted field path>": "<reason>" }`, one reason per field (the first), `payload` for the root. */
export function formatZodError(error: z.ZodError): ValidationErrors {
  const reasons = new Map<string, string>();
  for (const issue of error.issues) {
    if (reasons.size >= MAX_REPORTED_ERRORS) break;
    const field = issue.path.length === 0 ? 'payload' : issue.path.map(String).join('.');
    if (!reasons.has(field)) reasons.set(field, describeIssue(issue));
  }
  // fromEntries defines own properties, so a `__proto__` field name stays a plain key.
  return Object.fromEntries(reasons);
}

const ARTICLES: Record<string, string> = {
  int: 'an integer',
  number: 'a number',
  string: 'a string',
  boolean: 'a boolean',
  array: 'an array',
  object: 'an object',
  record: 'an object',
  null: 'null',
};

function withArticle(type: string): string {
  return ARTICLES[type] ?? type;
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  return typeof value;
}

/** Readable reason for one issue. Only numbers from the input are quoted: they are short and harmless. */
function describeIssue(issue: z.core.$ZodIssue): string {
  const shown =
    typeof issue.input === 'number' && Number.isFinite(issue.input) ? String(issue.input) : undefined;
  switch (issue.code) {
    case 'invalid_type': {
      const received =
        issue.input !== undefined ? typeOf(issue.input) : /received (\w+)/.exec(issue.message)?.[1];
      if (received === 'undefined') return 'is a required property';
      if (issue.expected === 'int' && shown !== undefined) return `${shown} is not an integer`;
      const expected = `must be ${withArticle(issue.expected)}`;
      return received === undefined ? expected : `${expected}, not ${withArticle(received)}`;
    }
    case 'too_big': {
      const max = String(issue.maximum);
      if (issue.origin === 'string') return `must be at most ${max} characters long`;
      if (issue.origin === 'array' || issue.origin === 'set') return `must have at most ${max} items`;
      if (shown !== undefined) {
        return `${shown} is greater than ${issue.inclusive ? 'the maximum of' : 'or equal to'} ${max}`;
      }
      return `must be ${issue.inclusive ? 'at most' : 'less than'} ${max}`;
    }
    case 'too_small': {
      const min = String(issue.minimum);
      if (issue.origin === 'string') {
        return issue.minimum === 1 ? 'must not be empty' : `must be at least ${min} characters long`;
      }
      if (issue.origin === 'array' || issue.origin === 'set') return `must have at least ${min} items`;
      if (shown !== undefined) {
        return `${shown} is less than ${issue.inclusive ? 'the minimum of' : 'or equal to'} ${min}`;
      }
      return `must be ${issue.inclusive ? 'at least' : 'greater than'} ${min}`;
    }
    case 'not_multiple_of':
      return `${shown ?? 'the value'} is not a multiple of ${String(issue.divisor)}`;
    case 'invalid_value':
      return issue.values.length === 1
        ? `must be ${String(issue.values[0])}`
        : `must be one of: ${issue.values.map(String).join(', ')}`;
    case 'invalid_format':
      return `must be a valid ${issue.format}`;
    case 'invalid_union':
      return 'does not match any of the allowed types';
    case 'unrecognized_keys':
      return 'has unexpected properties';
    case 'invalid_key':
      return 'has an invalid key';
    case 'invalid_element':
      return 'has an invalid element';
    default:
      return issue.message;
  }
}

interface WalkNode {
  value: unknown;
  key: string | number | undefined;
  parent: WalkNode | undefined;
}

function pathOf(node: WalkNode): string {
  const keys: (string | number)[] = [];
  for (let at: WalkNode | undefined = node; at?.key !== undefined; at = at.parent) keys.push(at.key);
  return keys.length === 0 ? 'payload' : keys.reverse().join('.');
}

/**
 * Rejects a NUL character in any string or key anywhere in `input` (the database would refuse it later).
 * Iterative, so deep nesting cannot overflow the stack; shared and cyclic references are visited once.
 */
export function assertNoNulBytes(input: unknown): void {
  const seen = new Set<object>();
  const stack: WalkNode[] = [{ value: input, key: undefined, parent: undefined }];
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    const { value } = node;
    if (typeof value === 'string') {
      if (value.includes('\u0000')) throw nulByteError(node);
      continue;
    }
    if (typeof value !== 'object' || value === null || seen.has(value)) continue;
    seen.add(value);
    if (Array.isArray(value)) {
      for (let index = 0; index < value.length; index++)
        stack.push({ value: value[index], key: index, parent: node });
      continue;
    }
    for (const [key, child] of Object.entries(value)) {
      const childNode = { value: child, key, parent: node };
      if (key.includes('\u0000')) throw nulByteError(childNode);
      stack.push(childNode);
    }
  }
}

function nulByteError(node: WalkNode): HordeError {
  return new HordeError('NulByteInPayload', 'Request payload may not contain NUL (0x00) bytes.', {
    details: { path: pathOf(node) },
  });
}

/** An empty or whitespace-only prompt is `MissingPrompt` (checked before the schema's `min(1)`). */
export function assertPromptNotBlank(input: unknown): void {
  if (typeof input !== 'object' || input === null) return;
  const prompt: unknown = (input as { prompt?: unknown }).prompt;
  if (typeof prompt === 'string' && prompt.trim() === '') {
    throw new HordeError('MissingPrompt', 'The prompt cannot be empty: send some text in `prompt`.');
  }
}

/** Counts `\S+` runs like Python's `str.split()`, stopping once past `limit`. */
export function countWords(text: string, limit: number): number {
  let count = 0;
  for (const _word of text.matchAll(/\S+/g)) {
    count++;
    if (count > limit) break;
  }
  return count;
}

/** Webhook, proxied account and batching rules shared by image and text requests (spec §1.1, §1.2). */
export function checkCommonRequestRules(body: CommonRequestFields, ctx: ValidationContext): void {
  if (body.webhook !== undefined && !body.webhook.startsWith('https://')) {
    throw new HordeError('BadRequest', 'The webhook must be an https:// URL.', {
      details: { field: 'webhook' },
    });
  }
  if (body.proxied_account !== undefined && !ctx.roles.service) {
    throw new HordeError(
      'OnlyServiceAccountProxy',
      'Only service accounts may send `proxied_account`; remove the field or ask a moderator for the service role.',
    );
  }
  if (body.disable_batching && body.params.n > 1 && !ctx.roles.trusted) {
    throw new HordeError(
      'RequiresTrust',
      'Only trusted users may set `disable_batching` when requesting more than one generation.',
      { details: { n: body.params.n } },
    );
  }
}

/**
 * A kudos transfer amount: a positive integer. (`POST /kudos/transfer` applies its default of 100 in the
 * schema; by the time an amount reaches the engine it must be explicit.)
 */
/**
 * The largest kudos amount one transfer, award or admin change may move: far beyond any real balance, and
 * small enough that every ledger total stays an exact integer of centikudos.
 */
export const MAX_KUDOS_AMOUNT = 1_000_000_000;

export function parseTransferAmount(amount: unknown): number {
  if (typeof amount !== 'number' || !Number.isFinite(amount)) {
    throw new HordeError('InvalidKudosTransferAmount', 'The kudos amount must be a whole number above 0.');
  }
  if (amount < 0) {
    throw new HordeError('NegativeKudosTransfer', 'You cannot transfer a negative amount of kudos.', {
      details: { amount },
    });
  }
  if (amount === 0 || !Number.isInteger(amount)) {
    throw new HordeError('InvalidKudosTransferAmount', 'The kudos amount must be a whole number above 0.', {
      details: { amount },
    });
  }
  if (amount > MAX_KUDOS_AMOUNT) {
    throw new HordeError(
      'InvalidKudosTransferAmount',
      `The kudos amount must be at most ${MAX_KUDOS_AMOUNT.toLocaleString('en')}.`,
      { details: { amount } },
    );
  }
  return amount;
}
