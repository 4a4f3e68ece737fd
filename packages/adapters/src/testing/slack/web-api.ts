/**
 * The fake Slack Web API as a Hono app: `POST /api/<method>` (form-urlencoded, multipart or JSON, token in
 * `Authorization: Bearer` or a `token` field), the upload URLs of the external upload flow, file downloads,
 * and the `response_url`s handed out with slash commands and interactions. Answers like Slack: HTTP 200 with
 * `{ ok: true, ... }` or `{ ok: false, error }`, and HTTP 429 with `Retry-After` when told to rate-limit.
 */
import { Hono } from 'hono';
import type { CallLog, UploadedFile } from '../fake-server.js';
import type { FakeSlackFile, FakeSlackMessage, ResponseUrlPost } from './types.js';
import { type MessageContent, SlackApiError, type SlackWorkspace } from './workspace.js';

type Args = Record<string, unknown>;

interface MethodContext {
  workspace: SlackWorkspace;
  socketModeUrl(): string;
}

interface MethodSpec {
  /** Which token the method takes: the bot token, or the app-level `xapp-` token. */
  token: 'bot' | 'app';
  run(args: Args, context: MethodContext): Args;
}

/** Form fields web-api JSON-encodes because their values are objects or arrays. */
const JSON_FIELDS = ['blocks', 'attachments', 'files', 'metadata'];

const METHODS: Record<string, MethodSpec> = {
  'auth.test': {
    token: 'bot',
    run: (_args, { workspace }) => {
      const { identity } = workspace;
      return {
        url: `${workspace.baseUrl}/`,
        team: identity.teamDomain,
        user: String(workspace.user(identity.botUserId).name),
        team_id: identity.teamId,
        user_id: identity.botUserId,
        bot_id: identity.botId,
        is_enterprise_install: false,
      };
    },
  },
  'chat.postMessage': {
    token: 'bot',
    run: (args, { workspace }) => {
      const channel = workspace.resolveChannel(required(args, 'channel', 'channel_not_found'));
      const message = workspace.post(channel, contentOf(args, { needsText: true }), 'chat.postMessage');
      return { channel, ts: message.ts, message: publicMessage(message) };
    },
  },
  'chat.update': {
    token: 'bot',
    run: (args, { workspace }) => {
      const channel = required(args, 'channel', 'channel_not_found');
      const message = workspace.update(channel, required(args, 'ts', 'message_not_found'), contentOf(args));
      return { channel, ts: message.ts, text: message.text, message: publicMessage(message) };
    },
  },
  'chat.delete': {
    token: 'bot',
    run: (args, { workspace }) => {
      const channel = required(args, 'channel', 'channel_not_found');
      const ts = required(args, 'ts', 'message_not_found');
      workspace.delete(channel, ts);
      return { channel, ts };
    },
  },
  'chat.postEphemeral': {
    token: 'bot',
    run: (args, { workspace }) => {
      const channel = workspace.resolveChannel(required(args, 'channel', 'channel_not_found'));
      const user = required(args, 'user', 'user_not_found');
      workspace.user(user);
      const message = workspace.post(
        channel,
        contentOf(args, { needsText: true }),
        'chat.postEphemeral',
        user,
      );
      return { message_ts: message.ts };
    },
  },
  'chat.getPermalink': {
    token: 'bot',
    run: (args, { workspace }) => {
      const channel = required(args, 'channel', 'channel_not_found');
      const ts = required(args, 'message_ts', 'message_not_found');
      workspace.channelInfo(channel);
      if (!workspace.findMessage(channel, ts)) throw new SlackApiError('message_not_found');
      return { channel, permalink: `${workspace.baseUrl}/archives/${channel}/p${ts.replace('.', '')}` };
    },
  },
  'conversations.info': {
    token: 'bot',
    run: (args, { workspace }) => ({
      channel: workspace.channelInfo(required(args, 'channel', 'channel_not_found')),
    }),
  },
  'conversations.open': {
    token: 'bot',
    run: (args, { workspace }) => {
      const users = required(args, 'users', 'users_list_not_supplied').split(',');
      if (users.length !== 1) throw new SlackApiError('not_implemented');
      return { channel: { id: workspace.openDirectMessage(users[0]!) } };
    },
  },
  'users.info': {
    token: 'bot',
    run: (args, { workspace }) => ({ user: workspace.user(required(args, 'user', 'user_not_found')) }),
  },
  'files.getUploadURLExternal': {
    token: 'bot',
    run: (args, { workspace }) => {
      const filename = required(args, 'filename', 'invalid_arguments');
      const length = Number(required(args, 'length', 'invalid_arguments'));
      if (!Number.isInteger(length) || length < 1) throw new SlackApiError('invalid_arguments');
      const altText = typeof args.alt_text === 'string' ? args.alt_text : undefined;
      const file = workspace.createFile(filename, length, altText);
      return { upload_url: `${workspace.baseUrl}/upload/${file.id}`, file_id: file.id };
    },
  },
  'files.completeUploadExternal': {
    token: 'bot',
    run: (args, { workspace }) => {
      if (!Array.isArray(args.files) || args.files.length === 0) throw new SlackApiError('invalid_arguments');
      const files = (args.files as { id?: unknown; title?: unknown }[]).map(({ id, title }) => ({
        id: String(id),
        ...(typeof title === 'string' ? { title } : {}),
      }));
      const share: Parameters<SlackWorkspace['completeUpload']>[1] = {};
      for (const key of ['channel_id', 'initial_comment', 'thread_ts'] as const) {
        if (typeof args[key] === 'string') share[key] = args[key];
      }
      if (Array.isArray(args.blocks)) share.blocks = args.blocks;
      return { files: workspace.completeUpload(files, share).map(publicFile) };
    },
  },
  'files.info': {
    token: 'bot',
    run: (args, { workspace }) => ({
      file: publicFile(workspace.file(required(args, 'file', 'file_not_found'))),
    }),
  },
  'apps.connections.open': {
    token: 'app',
    run: (_args, { socketModeUrl }) => ({ url: socketModeUrl() }),
  },
};

export interface SlackWebApi {
  app: Hono;
  /** The next call of `method` gets HTTP 429 with `Retry-After: retryAfterSeconds`. Queues up. */
  rateLimitNext(method: string, retryAfterSeconds: number): void;
  /** The next call of `method` answers `{ ok: false, error }`. Queues up. */
  failNext(method: string, error: string): void;
}

export function createSlackWebApi(deps: {
  workspace: SlackWorkspace;
  log: CallLog;
  socketModeUrl(): string;
}): SlackWebApi {
  const { workspace, log } = deps;
  const { botToken, appToken } = workspace.identity;
  const rateLimits = new Map<string, number[]>();
  const failures = new Map<string, string[]>();
  const app = new Hono();

  app.post('/api/:method', async (c) => {
    const method = c.req.param('method');
    const args = await readArgs(c.req.raw);
    const retryAfter = rateLimits.get(method)?.shift();
    if (retryAfter !== undefined) {
      log.record(`429 ${method}`, args);
      c.header('Retry-After', String(retryAfter));
      return c.json({ ok: false, error: 'ratelimited' }, 429);
    }
    log.record(method, args);
    const spec = METHODS[method];
    if (!spec) return c.json({ ok: false, error: 'unknown_method' });
    const token =
      bearer(c.req.header('authorization')) ?? (typeof args.token === 'string' ? args.token : undefined);
    const expected = spec.token === 'app' ? appToken : botToken;
    if (token === undefined || token === '') return c.json({ ok: false, error: 'not_authed' });
    if (token !== expected) {
      const otherKind = token === botToken || token === appToken;
      return c.json({ ok: false, error: otherKind ? 'not_allowed_token_type' : 'invalid_auth' });
    }
    const failure = failures.get(method)?.shift();
    if (failure !== undefined) return c.json({ ok: false, error: failure });
    try {
      return c.json({ ok: true, ...spec.run(args, { workspace, socketModeUrl: deps.socketModeUrl }) });
    } catch (error) {
      if (error instanceof SlackApiError) return c.json({ ok: false, error: error.code });
      throw error;
    }
  });

  // Step 2 of the external upload flow: web-api posts multipart with the bytes in a field named `body`.
  app.post('/upload/:file_id', async (c) => {
    const fileId = c.req.param('file_id');
    const contentType = c.req.header('content-type') ?? '';
    let field: string | undefined;
    let upload: UploadedFile;
    if (contentType.startsWith('multipart/form-data')) {
      const form = await c.req.raw.formData();
      const entry = [...form.entries()].find(([, value]) => typeof value !== 'string');
      if (!entry) return c.text('no file part', 400);
      const file = entry[1] as File;
      field = entry[0];
      upload = { filename: file.name, type: file.type, bytes: Buffer.from(await file.arrayBuffer()) };
    } else {
      upload = { filename: '', type: contentType, bytes: Buffer.from(await c.req.arrayBuffer()) };
    }
    log.record('POST /upload/:file_id', { file_id: fileId, field, contentType, file: upload });
    const stored = workspace.storeUpload(fileId, upload.bytes);
    if (!stored) return c.text('unknown upload', 404);
    return c.text(`OK - ${upload.bytes.length}`);
  });

  app.get('/files/:file_id', (c) => {
    if (bearer(c.req.header('authorization')) !== botToken) return c.text('not authed', 403);
    try {
      const file = workspace.file(c.req.param('file_id'));
      if (!file.bytes) return c.text('not uploaded', 404);
      return c.body(new Uint8Array(file.bytes), 200, { 'content-type': file.mimetype });
    } catch {
      return c.text('file not found', 404);
    }
  });

  app.post('/response/:token', async (c) => {
    const token = c.req.param('token');
    const post = (await readArgs(c.req.raw)) as ResponseUrlPost;
    log.record('POST /response/:token', { token, ...post });
    if (!workspace.respond(token, post)) return c.text('invalid_token', 404);
    return c.json({ ok: true });
  });

  return {
    app,
    rateLimitNext(method, retryAfterSeconds) {
      rateLimits.set(method, [...(rateLimits.get(method) ?? []), retryAfterSeconds]);
    },
    failNext(method, error) {
      failures.set(method, [...(failures.get(method) ?? []), error]);
    },
  };
}

/** Parses JSON, form-urlencoded or multipart bodies; JSON-encoded form fields are decoded. */
async function readArgs(request: Request): Promise<Args> {
  const contentType = request.headers.get('content-type') ?? '';
  if (contentType.includes('application/json')) {
    const json: unknown = await request.json();
    return typeof json === 'object' && json !== null ? (json as Args) : {};
  }
  const args: Args = {};
  if (contentType.startsWith('multipart/form-data')) {
    for (const [key, value] of (await request.formData()).entries()) {
      args[key] =
        typeof value === 'string'
          ? value
          : { filename: value.name, type: value.type, bytes: Buffer.from(await value.arrayBuffer()) };
    }
  } else {
    for (const [key, value] of new URLSearchParams(await request.text())) args[key] = value;
  }
  for (const key of JSON_FIELDS) {
    const value = args[key];
    if (typeof value === 'string' && /^\s*[[{]/.test(value)) {
      try {
        args[key] = JSON.parse(value);
      } catch {
        // Slack would answer invalid_blocks / invalid_attachments; the test sees the raw string instead.
      }
    }
  }
  return args;
}

function bearer(header: string | undefined): string | undefined {
  return header?.startsWith('Bearer ') ? header.slice('Bearer '.length) : undefined;
}

function required(args: Args, key: string, error: string): string {
  const value = args[key];
  if (typeof value === 'number') return String(value);
  if (typeof value !== 'string' || value === '') throw new SlackApiError(error);
  return value;
}

function contentOf(args: Args, options: { needsText?: boolean } = {}): MessageContent {
  const content: MessageContent = {};
  if (typeof args.text === 'string') content.text = args.text;
  if (Array.isArray(args.blocks)) content.blocks = args.blocks;
  if (Array.isArray(args.attachments)) content.attachments = args.attachments;
  if (typeof args.thread_ts === 'string' && args.thread_ts !== '') content.thread_ts = args.thread_ts;
  const empty = !content.text && !content.blocks?.length && !content.attachments?.length;
  if (options.needsText && empty) throw new SlackApiError('no_text');
  return content;
}

/** A message as the Web API shows it (no bytes, no bookkeeping). */
export function publicMessage(message: FakeSlackMessage): Args {
  const { via: _via, ephemeral: _ephemeral, ephemeralTo: _to, channel: _channel, files, ...rest } = message;
  return { type: 'message', ...rest, ...(files ? { files: files.map(publicFile) } : {}) };
}

function publicFile(file: FakeSlackFile): Args {
  const { bytes: _bytes, ...rest } = file;
  return rest;
}
