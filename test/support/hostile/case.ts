/**
 * The shape of one hostile request (see `index.ts`), helpers that build a table of them one line per
 * case, and the bodies several tables share.
 */

/** Who sends a case: a fixture account, the anonymous key, an unknown key, a 10 KB key, or no key. */
export type Sender = 'requester' | 'worker' | 'sender' | 'admin' | 'anon' | 'garbage' | 'huge' | 'none';

export interface HostileRequest {
  name: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Under `/api/v2` unless it starts with `@@` (an absolute URL placeholder) or `root` is set. */
  path: string;
  /** Path from the origin, not `/api/v2` (the HTML `/register` page). */
  root?: boolean;
  as: Sender;
  /** Sent as is; `Content-Type: application/json` unless `headers` says otherwise. */
  body?: string | (() => string);
  headers?: Record<string, string>;
  /** A status, `4xx` (any client error) or `any` (anything below 500). @default '4xx' */
  status?: number | '4xx' | 'any';
  rc?: string;
  /** An HTML page is an acceptable answer (the `/register` form). */
  html?: boolean;
}

/** Ids and URLs the `@@name@@` placeholders stand for, known once the fixture exists. */
export interface HostileFixture {
  requesterId: number;
  bystanderId: number;
  bystanderAlias: string;
  senderAlias: string;
  workerId: string;
  /** A job the worker popped and has not submitted. */
  jobId: string;
  /** A request that exists. */
  requestId: string;
  /** `<origin>/…/uploads/<key>` of the unsubmitted job, the same without the key, its `?expires=…&sig=…`. */
  uploadUrl: string;
  uploadBase: string;
  uploadQuery: string;
  /** The same for a delivered image. */
  imageUrl: string;
  imageBase: string;
  imageQuery: string;
}

export function resolvePlaceholders(text: string, fixture: HostileFixture): string {
  if (!text.includes('@@')) return text;
  return text.replace(/@@(\w+)@@/g, (match, name: string) =>
    name in fixture ? String(fixture[name as keyof HostileFixture]) : match,
  );
}

type Body = HostileRequest['body'];
/** A status, or a status and the rc the spec names for it. */
export type Expected = NonNullable<HostileRequest['status']> | [number, string];

function expectation(expected: Expected): Pick<HostileRequest, 'status' | 'rc'> {
  return Array.isArray(expected) ? { status: expected[0], rc: expected[1] } : { status: expected };
}

/** Cases with a body for one endpoint: `pop('models empty', body, 400)`. */
export function withBody(label: string, method: HostileRequest['method'], path: string, as: Sender) {
  return (name: string, body: Body, expected: Expected = '4xx', more: Partial<HostileRequest> = {}) =>
    ({
      name: `${label}: ${name}`,
      method,
      path,
      as,
      body,
      ...expectation(expected),
      ...more,
    }) as HostileRequest;
}

/** Cases without a body, one path each: `check('not a UUID', '/generate/check/x', [404, 'RequestNotFound'])`. */
export function withPath(label: string, method: HostileRequest['method'], as: Sender) {
  return (name: string, path: string, expected: Expected = '4xx', more: Partial<HostileRequest> = {}) =>
    ({ name: `${label}: ${name}`, method, path, as, ...expectation(expected), ...more }) as HostileRequest;
}

export const json = (value: unknown) => JSON.stringify(value);
export const NUL = '\u0000';
export const UUID_NOBODY = '00000000-0000-4000-8000-000000000000';
export const LONG_ID = 'a'.repeat(5 * 1024);
export const UNICODE_ID = encodeURIComponent('日本語🎨\u202e');
export const TRAVERSAL = encodeURIComponent('../../etc/passwd');
export const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };

/** Broken JSON, each sent to a few endpoints. */
export const MALFORMED_JSON: [string, string][] = [
  ['truncated', '{"prompt": "a lighthou'],
  ['trailing comma', '{"prompt": "a lighthouse",}'],
  ['missing value', '{"a":}'],
  ['a bare string', '"hello"'],
  ['null', 'null'],
  ['an array', '[{"prompt": "a lighthouse"}]'],
  ['a number', '42'],
  ['single quotes', "{'prompt': 'a lighthouse'}"],
  ['a raw NUL byte inside a string', `{"prompt": "a${NUL}b"}`],
];
