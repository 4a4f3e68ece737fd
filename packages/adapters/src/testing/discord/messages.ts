/**
 * Message bodies as discord.js sends them, and what Discord does with them: JSON or multipart
 * (`payload_json` plus `files[n]`) parsed into one shape; messages created and edited with Discord's
 * attachment rules (an edit's `attachments` list is the set to keep, new uploads referenced by index).
 */
import type { Context } from 'hono';
import type { UploadedFile } from '../fake-server.js';
import type { DiscordState } from './state.js';
import type { FakeAttachment, FakeMessage, FakeUser } from './types.js';

export interface IndexedUpload extends UploadedFile {
  /** The multipart field, `files[0]` … */
  field: string;
  /** n of `files[n]`, which the payload's `attachments[].id` refers to. */
  index: number;
}

export interface RequestBody {
  /** The JSON body, or the parsed `payload_json` of a multipart body. Arrays are kept as they are. */
  payload: unknown;
  uploads: IndexedUpload[];
}

const FLAG_EPHEMERAL = 64;
const FLAG_LOADING = 128;

export async function readBody(c: Context): Promise<RequestBody> {
  const type = c.req.header('content-type') ?? '';
  if (type.startsWith('multipart/form-data')) {
    const form = await c.req.raw.formData();
    const fields: Record<string, unknown> = {};
    let payload: unknown = fields;
    const uploads: IndexedUpload[] = [];
    for (const [field, value] of form.entries()) {
      if (typeof value === 'string') {
        if (field === 'payload_json') payload = JSON.parse(value);
        else fields[field] = value;
        continue;
      }
      const match = /^files\[(\d+)\]$/.exec(field);
      uploads.push({
        field,
        index: match ? Number(match[1]) : uploads.length,
        filename: value.name,
        type: value.type,
        bytes: Buffer.from(await value.arrayBuffer()),
      });
    }
    return { payload, uploads };
  }
  if (type.includes('json')) return { payload: await c.req.json(), uploads: [] };
  return { payload: {}, uploads: [] };
}

export function asRecord(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

/** Stores the uploads (served at their `url`) as the attachments the payload's `attachments[]` describes. */
function storeUploads(
  state: DiscordState,
  payload: Record<string, unknown>,
  uploads: IndexedUpload[],
): FakeAttachment[] {
  const described = Array.isArray(payload.attachments) ? payload.attachments.map(asRecord) : [];
  return uploads.map((upload) => {
    const info = described.find((entry) => String(entry.id) === String(upload.index));
    const filename = typeof info?.filename === 'string' ? info.filename : upload.filename;
    const id = state.snowflake();
    state.files.set(id, { filename, type: upload.type, bytes: upload.bytes });
    const url = `${state.url}/attachments/${id}/${encodeURIComponent(filename)}`;
    return {
      id,
      filename,
      size: upload.bytes.length,
      url,
      proxy_url: url,
      ...(upload.type ? { content_type: upload.type } : {}),
      ...(typeof info?.description === 'string' ? { description: info.description } : {}),
    };
  });
}

function records(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value) ? value.map(asRecord) : [];
}

/** Discord fills in `type: 'rich'` on embeds the bot sent without one. */
function embeds(value: unknown): Record<string, unknown>[] {
  return records(value).map((embed) => ({ type: 'rich', ...embed }));
}

export interface CreateMessageExtra {
  author?: FakeUser;
  type?: number;
  /** Added to the payload's flags (128 for a deferred response's loading state). */
  flags?: number;
  /** Marks an interaction response: `webhook_id`, `application_id`, `interaction_metadata`. */
  interaction?: { id: string; type: number; user: FakeUser; name?: string };
}

export function createMessage(
  state: DiscordState,
  channelId: string,
  body: { payload: unknown; uploads: IndexedUpload[] },
  extra: CreateMessageExtra = {},
): FakeMessage {
  const payload = asRecord(body.payload);
  const message: FakeMessage = {
    id: state.snowflake(),
    type: extra.type ?? 0,
    channel_id: channelId,
    author: state.apiUser(extra.author ?? state.bot),
    content: typeof payload.content === 'string' ? payload.content : '',
    embeds: embeds(payload.embeds),
    components: records(payload.components),
    attachments: storeUploads(state, payload, body.uploads),
    flags: (typeof payload.flags === 'number' ? payload.flags : 0) | (extra.flags ?? 0),
    timestamp: new Date().toISOString(),
    edited_timestamp: null,
    tts: false,
    mention_everyone: false,
    mentions: [],
    mention_roles: [],
    pinned: false,
  };
  if (extra.interaction) {
    message.webhook_id = state.applicationId;
    message.application_id = state.applicationId;
    message.interaction_metadata = {
      id: extra.interaction.id,
      type: extra.interaction.type,
      user: state.apiUser(extra.interaction.user),
      authorizing_integration_owners: {},
      ...(extra.interaction.name ? { name: extra.interaction.name } : {}),
    };
  }
  state.channelMessages(channelId).set(message.id, message);
  return message;
}

/** Applies an edit in place, as PATCH …/messages/:id and callback type 7 do. */
export function editMessage(
  state: DiscordState,
  message: FakeMessage,
  body: { payload: unknown; uploads: IndexedUpload[] },
): FakeMessage {
  const payload = asRecord(body.payload);
  if ('content' in payload) message.content = typeof payload.content === 'string' ? payload.content : '';
  if ('embeds' in payload) message.embeds = embeds(payload.embeds);
  if ('components' in payload) message.components = records(payload.components);
  if (body.uploads.length > 0 || 'attachments' in payload) {
    const fresh = storeUploads(state, payload, body.uploads);
    const kept = Array.isArray(payload.attachments)
      ? message.attachments.filter((attachment) =>
          records(payload.attachments).some((entry) => String(entry.id) === attachment.id),
        )
      : message.attachments;
    message.attachments = [...kept, ...fresh];
  }
  const ephemeral = message.flags & FLAG_EPHEMERAL;
  const flags = typeof payload.flags === 'number' ? payload.flags : message.flags;
  message.flags = (flags | ephemeral) & ~FLAG_LOADING;
  message.edited_timestamp = new Date().toISOString();
  return message;
}

export function deleteMessage(state: DiscordState, message: FakeMessage): void {
  state.messages.get(message.channel_id)?.delete(message.id);
}
