/**
 * Reading a Bot API request the way the real server does: JSON, urlencoded or multipart bodies (and query
 * strings), JSON-serialized fields decoded, numbers and booleans coerced by parameter name, and
 * `attach://<name>` references replaced by the uploaded files they point to.
 */
import type { UploadedFile } from '../fake-server.js';
import { badRequest } from './errors.js';
import { multipartBoundary, parseMultipart } from './multipart.js';

export type Params = Record<string, unknown>;

/** Parameters the Bot API documents as JSON-serialized objects; clients send them as strings in forms. */
const JSON_FIELDS = new Set([
  'reply_markup',
  'media',
  'entities',
  'caption_entities',
  'reply_parameters',
  'link_preview_options',
  'results',
  'button',
  'commands',
  'scope',
  'allowed_updates',
  'message_ids',
]);
const INTEGER_FIELDS = new Set([
  'chat_id',
  'message_id',
  'user_id',
  'reply_to_message_id',
  'message_thread_id',
  'offset',
  'limit',
  'timeout',
  'cache_time',
  'max_connections',
  'width',
  'height',
  'duration',
]);
const BOOLEAN_FIELDS = new Set([
  'disable_notification',
  'protect_content',
  'has_spoiler',
  'show_caption_above_media',
  'disable_content_type_detection',
  'show_alert',
  'is_personal',
  'drop_pending_updates',
  'only_if_banned',
]);

export async function readParams(request: Request): Promise<Params> {
  const params: Params = Object.fromEntries(new URL(request.url).searchParams);
  const contentType = request.headers.get('content-type') ?? '';
  if (contentType.startsWith('multipart/form-data')) {
    const boundary = multipartBoundary(contentType);
    if (!boundary) throw badRequest('multipart boundary is missing');
    Object.assign(params, parseMultipart(Buffer.from(await request.arrayBuffer()), boundary));
  } else if (contentType.startsWith('application/x-www-form-urlencoded')) {
    Object.assign(params, Object.fromEntries(new URLSearchParams(await request.text())));
  } else {
    const text = await request.text();
    if (text.trim() !== '') {
      const parsed: unknown = parseJson(text, 'request body');
      if (!isRecord(parsed)) throw badRequest('request body must be a JSON object');
      Object.assign(params, parsed);
    }
  }
  coerceStrings(params);
  resolveAttachments(params);
  return params;
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw badRequest(`can't parse ${what} JSON object`);
  }
}

function coerceStrings(params: Params): void {
  for (const [key, value] of Object.entries(params)) {
    if (typeof value !== 'string') continue;
    if (JSON_FIELDS.has(key)) params[key] = parseJson(value, key);
    else if (INTEGER_FIELDS.has(key) && /^-?\d+$/.test(value)) params[key] = Number(value);
    else if (BOOLEAN_FIELDS.has(key) && (value === 'true' || value === 'false'))
      params[key] = value === 'true';
  }
}

/** Replaces `attach://name` (top level, and `media`/`thumbnail` inside `media`) by the file part `name`. */
function resolveAttachments(params: Params): void {
  const used = new Set<string>();
  const resolve = (value: unknown): unknown => {
    if (typeof value !== 'string' || !value.startsWith('attach://')) return value;
    const name = value.slice('attach://'.length);
    const file = params[name];
    if (!isUploadedFile(file)) throw badRequest(`file "${name}" named by attach:// was not uploaded`);
    used.add(name);
    return file;
  };
  const resolveMedia = (item: unknown): unknown =>
    isRecord(item)
      ? {
          ...item,
          media: resolve(item.media),
          ...(item.thumbnail === undefined ? {} : { thumbnail: resolve(item.thumbnail) }),
        }
      : item;
  for (const [key, value] of Object.entries(params)) {
    if (key === 'media') params.media = Array.isArray(value) ? value.map(resolveMedia) : resolveMedia(value);
    else params[key] = resolve(value);
  }
  for (const name of used) delete params[name];
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isUploadedFile(value: unknown): value is UploadedFile {
  return isRecord(value) && Buffer.isBuffer(value.bytes) && typeof value.filename === 'string';
}

export function optionalInt(params: Params, key: string): number | undefined {
  const value = params[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  throw badRequest(`parameter "${key}" must be an integer`);
}

export function requireInt(params: Params, key: string, missing = `${key} is empty`): number {
  const value = optionalInt(params, key);
  if (value === undefined) throw badRequest(missing);
  return value;
}

export function optionalString(params: Params, key: string): string | undefined {
  const value = params[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  throw badRequest(`parameter "${key}" must be a string`);
}

export function requireString(params: Params, key: string, missing = `${key} is empty`): string {
  const value = optionalString(params, key);
  if (value === undefined || value === '') throw badRequest(missing);
  return value;
}

/** `chat_id` is an integer or `@channelusername`. */
export function requireChatId(params: Params): number | string {
  const value = params.chat_id;
  if (typeof value === 'string' && value.startsWith('@')) return value;
  return requireInt(params, 'chat_id');
}
