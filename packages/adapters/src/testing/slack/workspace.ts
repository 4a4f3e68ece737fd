/**
 * The fake workspace's state and its rules, with no HTTP in sight: channels and users, the messages each
 * channel shows (updates and deletes applied), files and their bytes, and the `response_url`s handed out.
 * A rule Slack enforces becomes a `SlackApiError` carrying Slack's error code.
 */
import type {
  FakeSlackChannelInit,
  FakeSlackFile,
  FakeSlackMessage,
  FakeSlackUserInit,
  ResponseUrlPost,
} from './types.js';

/** Slack's `{ ok: false, error }` answer. */
export class SlackApiError extends Error {
  constructor(readonly code: string) {
    super(code);
    this.name = 'SlackApiError';
  }
}

export interface WorkspaceIdentity {
  botUserId: string;
  botId: string;
  teamId: string;
  teamDomain: string;
  appId: string;
  botToken: string;
  appToken: string;
  signingSecret: string;
}

interface ChannelRecord {
  info: Record<string, unknown> & { id: string; name: string };
  messages: FakeSlackMessage[];
}

interface ResponseTarget {
  channel: string;
  user: string;
  /** The message a `replace_original` / `delete_original` acts on: the clicked one, or the first response. */
  targetTs?: string;
  posts: ResponseUrlPost[];
}

export interface MessageContent {
  text?: string;
  blocks?: unknown[];
  attachments?: unknown[];
  thread_ts?: string;
}

const MIME_TYPES: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
  txt: 'text/plain',
  json: 'application/json',
};

export class SlackWorkspace {
  /** The fake's own origin, known once it listens. */
  baseUrl = '';
  readonly #channels = new Map<string, ChannelRecord>();
  readonly #users = new Map<string, Record<string, unknown>>();
  readonly #files = new Map<string, FakeSlackFile>();
  readonly #responses = new Map<string, ResponseTarget>();
  #lastTsMicros = 0;
  #sequence = 0;

  constructor(
    readonly identity: WorkspaceIdentity,
    channels: Record<string, FakeSlackChannelInit>,
    users: Record<string, FakeSlackUserInit>,
  ) {
    for (const [id, init] of Object.entries(channels)) this.addChannel(id, init);
    this.addUser(identity.botUserId, { name: 'hordekit', is_bot: true });
    for (const [id, init] of Object.entries(users)) this.addUser(id, init);
  }

  addChannel(id: string, init: FakeSlackChannelInit = {}): void {
    const info = {
      id,
      name: init.name ?? id.toLowerCase(),
      is_channel: !id.startsWith('D'),
      is_group: false,
      is_im: id.startsWith('D'),
      is_private: false,
      is_member: true,
      is_archived: false,
      created: Math.floor(Date.now() / 1000),
      ...init,
    };
    this.#channels.set(id, { info, messages: this.#channels.get(id)?.messages ?? [] });
  }

  addUser(id: string, init: FakeSlackUserInit = {}): void {
    const name = init.name ?? id.toLowerCase();
    const realName = init.real_name ?? name;
    this.#users.set(id, {
      id,
      team_id: this.identity.teamId,
      name,
      real_name: realName,
      deleted: false,
      is_admin: false,
      is_owner: false,
      is_bot: false,
      profile: { real_name: realName, display_name: name },
      ...init,
    });
  }

  get firstUserId(): string {
    const human = [...this.#users.values()].find((user) => user.is_bot !== true);
    return String(human?.id ?? this.identity.botUserId);
  }

  get firstChannelId(): string {
    return this.#channels.keys().next().value ?? 'C0GENERAL';
  }

  channelInfo(id: string): Record<string, unknown> & { id: string; name: string } {
    const record = this.#channels.get(id);
    if (!record) throw new SlackApiError('channel_not_found');
    return record.info;
  }

  user(id: string): Record<string, unknown> {
    const user = this.#users.get(id);
    if (!user) throw new SlackApiError('user_not_found');
    return user;
  }

  /** A channel id as `chat.postMessage` takes it: a user id means that user's DM with the bot. */
  resolveChannel(idOrUser: string): string {
    if (this.#channels.has(idOrUser)) return idOrUser;
    if (this.#users.has(idOrUser)) return this.openDirectMessage(idOrUser);
    throw new SlackApiError('channel_not_found');
  }

  openDirectMessage(userId: string): string {
    this.user(userId);
    const id = `D${userId.slice(1)}`;
    if (!this.#channels.has(id)) this.addChannel(id, { name: id, is_im: true, user: userId });
    return id;
  }

  /** The messages the channel shows now, oldest first. */
  messages(channelId: string): FakeSlackMessage[] {
    return [...(this.#channels.get(channelId)?.messages ?? [])];
  }

  findMessage(channelId: string, ts: string): FakeSlackMessage | undefined {
    return this.#channels.get(channelId)?.messages.find((message) => message.ts === ts);
  }

  post(
    channelId: string,
    content: MessageContent & { files?: FakeSlackFile[] },
    via: string,
    ephemeralTo?: string,
  ): FakeSlackMessage {
    const record = this.#channels.get(channelId);
    if (!record) throw new SlackApiError('channel_not_found');
    if (record.info.is_archived === true) throw new SlackApiError('is_archived');
    if (content.thread_ts !== undefined && !this.findMessage(channelId, content.thread_ts)) {
      throw new SlackApiError('thread_not_found');
    }
    const message: FakeSlackMessage = {
      ts: this.nextTs(),
      channel: channelId,
      user: this.identity.botUserId,
      bot_id: this.identity.botId,
      text: content.text ?? '',
      via,
    };
    if (content.blocks !== undefined) message.blocks = content.blocks;
    if (content.attachments !== undefined) message.attachments = content.attachments;
    if (content.thread_ts !== undefined) message.thread_ts = content.thread_ts;
    if (content.files !== undefined) message.files = content.files;
    if (ephemeralTo !== undefined) {
      message.ephemeral = true;
      message.ephemeralTo = ephemeralTo;
    }
    record.messages.push(message);
    return message;
  }

  /** chat.update: fields left out keep their value, as on Slack (`blocks: []` removes the blocks). */
  update(channelId: string, ts: string, content: MessageContent, options: { replace?: boolean } = {}) {
    const message = this.findMessage(channelId, ts);
    if (!message || (message.ephemeral && !options.replace)) throw new SlackApiError('message_not_found');
    if (message.user !== this.identity.botUserId) throw new SlackApiError('cant_update_message');
    if (options.replace) {
      message.text = content.text ?? '';
      message.blocks = content.blocks;
      message.attachments = content.attachments;
    } else {
      if (content.text !== undefined) message.text = content.text;
      if (content.blocks !== undefined) message.blocks = content.blocks;
      if (content.attachments !== undefined) message.attachments = content.attachments;
    }
    message.edited = { ts: this.nextTs() };
    return message;
  }

  delete(channelId: string, ts: string): void {
    const record = this.#channels.get(channelId);
    if (!record) throw new SlackApiError('channel_not_found');
    const index = record.messages.findIndex((message) => message.ts === ts);
    if (index === -1) throw new SlackApiError('message_not_found');
    if (record.messages[index]!.user !== this.identity.botUserId)
      throw new SlackApiError('cant_delete_message');
    this.#remove(channelId, ts);
  }

  #remove(channelId: string, ts: string): void {
    const messages = this.#channels.get(channelId)?.messages ?? [];
    const index = messages.findIndex((message) => message.ts === ts);
    if (index !== -1) messages.splice(index, 1);
  }

  // Files: getUploadURLExternal → bytes to the upload URL → completeUploadExternal.

  createFile(filename: string, length: number, altText?: string): FakeSlackFile {
    const id = this.nextId('F');
    const extension = filename.includes('.') ? filename.split('.').pop()!.toLowerCase() : 'binary';
    const file: FakeSlackFile = {
      id,
      name: filename,
      title: filename,
      mimetype: MIME_TYPES[extension] ?? 'application/octet-stream',
      filetype: extension,
      size: length,
      user: this.identity.botUserId,
      created: Math.floor(Date.now() / 1000),
      url_private: `${this.baseUrl}/files/${id}`,
      permalink: `${this.baseUrl}/files/${id}/permalink`,
      channels: [],
    };
    if (altText !== undefined) file.alt_txt = altText;
    this.#files.set(id, file);
    return file;
  }

  file(id: string): FakeSlackFile {
    const file = this.#files.get(id);
    if (!file) throw new SlackApiError('file_not_found');
    return file;
  }

  storeUpload(id: string, bytes: Buffer): FakeSlackFile | undefined {
    const file = this.#files.get(id);
    if (file) {
      file.bytes = bytes;
      file.size = bytes.length;
    }
    return file;
  }

  completeUpload(
    files: { id: string; title?: string }[],
    share: { channel_id?: string; initial_comment?: string; thread_ts?: string; blocks?: unknown[] },
  ): FakeSlackFile[] {
    const completed = files.map(({ id, title }) => {
      const file = this.file(id);
      if (file.bytes === undefined) throw new SlackApiError('file_upload_not_found');
      if (title !== undefined) file.title = title;
      return file;
    });
    if (share.channel_id !== undefined) {
      const channel = this.resolveChannel(share.channel_id);
      const content: MessageContent & { files: FakeSlackFile[] } = { files: completed };
      if (share.initial_comment !== undefined) content.text = share.initial_comment;
      if (share.thread_ts !== undefined) content.thread_ts = share.thread_ts;
      if (share.blocks !== undefined) content.blocks = share.blocks;
      const message = this.post(channel, content, 'files.completeUploadExternal');
      const info = this.channelInfo(channel);
      // Where Slack records the message a file was shared in (`files.info` → `shares`): the only way to
      // learn its `ts`, since completeUploadExternal answers with the files alone.
      const visibility = info.is_private === true || info.is_im === true ? 'private' : 'public';
      for (const file of completed) {
        if (!file.channels.includes(channel)) file.channels.push(channel);
        const shares = file.shares ?? {};
        const inVisibility = shares[visibility] ?? {};
        const record = {
          ts: message.ts,
          channel_name: info.name,
          team_id: this.identity.teamId,
          share_user_id: this.identity.botUserId,
        };
        inVisibility[channel] = [...(inVisibility[channel] ?? []), record];
        shares[visibility] = inVisibility;
        file.shares = shares;
      }
    }
    return completed;
  }

  // response_url: one per slash command or interaction, bound to its channel, user and message.

  newResponseUrl(channel: string, user: string, targetTs?: string): { token: string; url: string } {
    const token = `${this.nextId('R')}${Math.random().toString(36).slice(2, 10)}`;
    const target: ResponseTarget = { channel, user, posts: [] };
    if (targetTs !== undefined) target.targetTs = targetTs;
    this.#responses.set(token, target);
    return { token, url: `${this.baseUrl}/response/${token}` };
  }

  responses(token: string): ResponseUrlPost[] {
    return [...(this.#responses.get(token)?.posts ?? [])];
  }

  /** Applies a post to a response_url the way Slack shows it; `false` for a token the fake never handed out. */
  respond(token: string, post: ResponseUrlPost): boolean {
    const target = this.#responses.get(token);
    if (!target) return false;
    target.posts.push(post);
    const original =
      target.targetTs === undefined ? undefined : this.findMessage(target.channel, target.targetTs);
    if (post.delete_original === true) {
      if (original) this.#remove(target.channel, original.ts);
      return true;
    }
    const content = contentOf(post);
    if (post.replace_original === true && original) {
      this.update(target.channel, original.ts, content, { replace: true });
      return true;
    }
    const ephemeralTo = post.response_type === 'in_channel' ? undefined : target.user;
    const message = this.post(target.channel, content, 'response_url', ephemeralTo);
    target.targetTs ??= message.ts;
    return true;
  }

  /** Message timestamps as Slack makes them: unique, increasing, `seconds.micros`. */
  nextTs(): string {
    this.#lastTsMicros = Math.max(this.#lastTsMicros + 1, Date.now() * 1000);
    const micros = this.#lastTsMicros;
    return `${Math.floor(micros / 1e6)}.${String(micros % 1e6).padStart(6, '0')}`;
  }

  nextId(prefix: string): string {
    this.#sequence += 1;
    return `${prefix}0${this.#sequence.toString(36).toUpperCase().padStart(7, '0')}`;
  }
}

function contentOf(post: ResponseUrlPost): MessageContent {
  const content: MessageContent = {};
  if (typeof post.text === 'string') content.text = post.text;
  if (Array.isArray(post.blocks)) content.blocks = post.blocks;
  if (Array.isArray(post.attachments)) content.attachments = post.attachments;
  if (typeof post.thread_ts === 'string') content.thread_ts = post.thread_ts;
  return content;
}
