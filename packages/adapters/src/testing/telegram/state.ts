/**
 * What the fake Telegram knows: the bot, its chats with the messages they show now (edits applied,
 * deletions removed, message ids counting up per chat), inline messages, uploaded files, open queries,
 * commands and the update queue. The method handlers in this folder read and change it.
 */
import type {
  BotCommand,
  Chat,
  Document,
  InlineKeyboardMarkup,
  InlineQueryResult,
  Message,
  MessageEntity,
  PhotoSize,
  User,
  UserFromGetMe,
} from 'grammy/types';
import { badRequest, DESCRIPTIONS } from './errors.js';
import type { Params } from './params.js';
import { UpdateQueue } from './updates.js';

export interface StoredFile {
  file_id: string;
  file_unique_id: string;
  file_path: string;
  file_size: number;
  file_name: string;
  mime_type: string;
  bytes: Buffer;
  width?: number;
  height?: number;
}

/** A message sent "via @bot" from an inline result; the bot only knows it by `inline_message_id`. */
export interface InlineMessage {
  inline_message_id: string;
  text?: string;
  entities?: MessageEntity[];
  caption?: string;
  caption_entities?: MessageEntity[];
  photo?: PhotoSize[];
  document?: Document;
  /** The photo or document URL of the chosen result (the fake does not download it). */
  media_url?: string;
  reply_markup?: InlineKeyboardMarkup;
  edit_date?: number;
}

export interface ChatInput {
  id: number;
  type: Chat['type'];
  /** Groups, supergroups and channels; defaults to `Chat <id>`. */
  title?: string;
  username?: string;
  /** Private chats; defaults to the first name of the user who writes in it. */
  first_name?: string;
}

/** One Bot API call as a handler sees it. */
export interface MethodCall {
  params: Params;
  world: TelegramWorld;
  /** Aborted when the client goes away (a cancelled long poll). */
  signal: AbortSignal;
}

export type MethodHandler = (call: MethodCall) => unknown;

export interface WorldOptions {
  botId: number;
  botUsername: string;
  botFirstName: string;
  /** Milliseconds since the epoch. */
  now: () => number;
}

interface ChatRecord {
  chat: Chat;
  messages: Message[];
  nextMessageId: number;
  admins: User[];
}

export class TelegramWorld {
  readonly bot: UserFromGetMe;
  readonly updates: UpdateQueue;
  readonly inlineMessages = new Map<string, InlineMessage>();
  readonly openCallbackQueries = new Set<string>();
  readonly openInlineQueries = new Set<string>();
  /** Every accepted `answerInlineQuery`, oldest first. */
  readonly inlineAnswers: { inline_query_id: string; results: InlineQueryResult[] }[] = [];
  /** `setMyCommands` lists by `JSON.stringify([scope, language_code])`. */
  readonly commands = new Map<string, BotCommand[]>();
  readonly #chats = new Map<number, ChatRecord>();
  readonly #files = new Map<string, StoredFile>();
  readonly #now: () => number;
  #fileCount = 0;
  #mediaGroupCount = 0;

  constructor(options: WorldOptions) {
    this.#now = options.now;
    this.updates = new UpdateQueue(() => this.unixTime());
    this.bot = {
      id: options.botId,
      is_bot: true,
      first_name: options.botFirstName,
      username: options.botUsername,
      can_join_groups: true,
      can_read_all_group_messages: false,
      supports_inline_queries: true,
      can_connect_to_business: false,
      has_main_web_app: false,
      has_topics_enabled: false,
      allows_users_to_create_topics: false,
      can_manage_bots: false,
      supports_join_request_queries: false,
    };
  }

  /** The bot as it appears in `from` of its messages. */
  get botUser(): User {
    return { id: this.bot.id, is_bot: true, first_name: this.bot.first_name, username: this.bot.username };
  }

  unixTime(): number {
    return Math.floor(this.#now() / 1000);
  }

  /** Registers a chat (or updates its title); bots can only write to chats that exist. */
  addChat(input: ChatInput): Chat {
    const chat = toChat(input);
    const existing = this.#chats.get(input.id);
    if (existing) existing.chat = { ...existing.chat, ...chat } as Chat;
    else this.#chats.set(input.id, { chat, messages: [], nextMessageId: 1, admins: [] });
    return this.#chats.get(input.id)!.chat;
  }

  /** The chat named by a `chat_id` parameter (an id or `@username`), or "chat not found". */
  chat(chatId: number | string): Chat {
    return this.#record(chatId).chat;
  }

  /** Appends a message to the chat with the chat's next message id, and returns the stored message. */
  postMessage(chatId: number | string, content: Omit<Message, 'message_id' | 'date' | 'chat'>): Message {
    const record = this.#record(chatId);
    const message = {
      message_id: record.nextMessageId++,
      date: this.unixTime(),
      chat: record.chat,
      ...content,
    } as Message;
    record.messages.push(message);
    return message;
  }

  message(chatId: number | string, messageId: number): Message | undefined {
    return this.#record(chatId).messages.find((message) => message.message_id === messageId);
  }

  deleteMessage(chatId: number | string, messageId: number): boolean {
    const messages = this.#record(chatId).messages;
    const index = messages.findIndex((message) => message.message_id === messageId);
    if (index === -1) return false;
    messages.splice(index, 1);
    return true;
  }

  /** A copy of what the chat shows now, oldest first; empty for unknown chats. */
  messages(chatId: number): Message[] {
    return structuredClone(this.#chats.get(chatId)?.messages ?? []);
  }

  admins(chatId: number | string): User[] {
    return this.#record(chatId).admins;
  }

  setAdmins(chatId: number, admins: User[]): void {
    this.#record(chatId).admins = admins;
  }

  storeFile(
    bytes: Buffer,
    name: string,
    mimeType: string,
    folder: 'photos' | 'documents',
    size?: ImageSize,
  ): StoredFile {
    const n = ++this.#fileCount;
    const extension = /\.([\w]+)$/.exec(name)?.[1] ?? 'dat';
    const file: StoredFile = {
      file_id: `fake-file-${n}`,
      file_unique_id: `fake-unique-${n}`,
      file_path: `${folder}/file_${n}.${extension}`,
      file_size: bytes.length,
      file_name: name,
      mime_type: mimeType,
      bytes,
      ...size,
    };
    this.#files.set(file.file_id, file);
    return file;
  }

  file(fileId: string): StoredFile | undefined {
    return this.#files.get(fileId);
  }

  fileByPath(path: string): StoredFile | undefined {
    return [...this.#files.values()].find((file) => file.file_path === path);
  }

  nextMediaGroupId(): string {
    return String(13_000_000_000 + ++this.#mediaGroupCount);
  }

  #record(chatId: number | string): ChatRecord {
    const record =
      typeof chatId === 'number'
        ? this.#chats.get(chatId)
        : [...this.#chats.values()].find((candidate) => `@${candidate.chat.username}` === chatId);
    if (!record) throw badRequest(DESCRIPTIONS.chatNotFound);
    return record;
  }
}

interface ImageSize {
  width: number;
  height: number;
}

function toChat(input: ChatInput): Chat {
  const title = input.title ?? `Chat ${input.id}`;
  const username = input.username === undefined ? {} : { username: input.username };
  switch (input.type) {
    case 'private':
      return {
        id: input.id,
        type: 'private',
        first_name: input.first_name ?? `User ${input.id}`,
        ...username,
      };
    case 'group':
      return { id: input.id, type: 'group', title };
    default:
      return { id: input.id, type: input.type, title, ...username } as Chat;
  }
}
