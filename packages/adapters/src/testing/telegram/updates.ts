/**
 * The update side of the fake Bot API: a queue that `getUpdates` long-polls like the real server (updates
 * stay until confirmed by a higher `offset`, a second poller terminates the first with 409), or, once a
 * webhook is set, delivery of each update to it in order with the secret-token header.
 */
import type { Update } from 'grammy/types';
import { BotApiError, DESCRIPTIONS } from './errors.js';

export interface WebhookConfig {
  url: string;
  secret_token?: string;
  allowed_updates?: string[];
  max_connections?: number;
}

export interface PollOptions {
  offset?: number;
  /** 1–100, defaults to 100. */
  limit?: number;
  /** Seconds to wait for an update when none is queued; 0 answers at once. */
  timeout?: number;
  allowed_updates?: string[];
}

/** Update types a bot receives when `allowed_updates` is empty or was never set. */
const NOT_SENT_BY_DEFAULT = new Set(['chat_member', 'message_reaction', 'message_reaction_count']);

/** POSTs an update to a webhook as Telegram does, with `X-Telegram-Bot-Api-Secret-Token` when given. */
export function postUpdate(url: string, update: Update, secretToken?: string): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (secretToken !== undefined) headers['x-telegram-bot-api-secret-token'] = secretToken;
  return fetch(url, { method: 'POST', headers, body: JSON.stringify(update) });
}

export class UpdateQueue {
  #pending: Update[] = [];
  #nextUpdateId = 1;
  #allowed: string[] = [];
  #poll: { wake(): void; terminate(error: BotApiError): void } | undefined;
  #webhook: WebhookConfig | undefined;
  #deliveries: Promise<void> = Promise.resolve();
  #lastWebhookError: { date: number; message: string } | undefined;

  /** @param now Unix time in seconds, for `last_error_date`. */
  constructor(private readonly now: () => number) {}

  nextUpdateId(): number {
    return this.#nextUpdateId++;
  }

  push(update: Update): void {
    const webhook = this.#webhook;
    if (webhook) {
      if (!isAllowed(update, webhook.allowed_updates ?? [])) return;
      this.#deliveries = this.#deliveries.then(() => this.#deliver(webhook, update));
      return;
    }
    this.#pending.push(update);
    this.#poll?.wake();
  }

  async poll(options: PollOptions, signal: AbortSignal): Promise<Update[]> {
    if (this.#webhook) throw new BotApiError(409, DESCRIPTIONS.webhookActive);
    if (options.allowed_updates) this.#allowed = options.allowed_updates;
    this.#confirm(options.offset);
    this.#poll?.terminate(new BotApiError(409, DESCRIPTIONS.terminatedByOtherPoll));
    const limit = Math.min(Math.max(options.limit ?? 100, 1), 100);
    const ready = this.#take(limit);
    if (ready.length > 0 || !options.timeout || options.timeout <= 0 || signal.aborted) return ready;
    await new Promise<void>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        if (this.#poll === waiter) this.#poll = undefined;
      };
      const waiter = {
        wake: () => {
          done();
          resolve();
        },
        terminate: (error: BotApiError) => {
          done();
          reject(error);
        },
      };
      const timer = setTimeout(waiter.wake, (options.timeout ?? 0) * 1000);
      signal.addEventListener('abort', waiter.wake);
      this.#poll = waiter;
    });
    return this.#take(limit);
  }

  /** Updates not yet confirmed by a poller. */
  get pending(): readonly Update[] {
    return this.#pending;
  }

  get webhook(): WebhookConfig | undefined {
    return this.#webhook;
  }

  setWebhook(config: WebhookConfig | undefined, dropPending = false): void {
    this.#webhook = config;
    this.#lastWebhookError = undefined;
    if (dropPending) this.#pending = [];
    if (config) this.#poll?.terminate(new BotApiError(409, DESCRIPTIONS.webhookActive));
  }

  webhookInfo(): Record<string, unknown> {
    const info: Record<string, unknown> = {
      url: this.#webhook?.url ?? '',
      has_custom_certificate: false,
      pending_update_count: this.#webhook ? 0 : this.#pending.length,
    };
    if (this.#webhook?.allowed_updates) info.allowed_updates = this.#webhook.allowed_updates;
    if (this.#webhook?.max_connections) info.max_connections = this.#webhook.max_connections;
    if (this.#lastWebhookError) {
      info.last_error_date = this.#lastWebhookError.date;
      info.last_error_message = this.#lastWebhookError.message;
    }
    return info;
  }

  /** Resolves once every update pushed so far has been delivered to the webhook. */
  deliveriesSettled(): Promise<void> {
    return this.#deliveries;
  }

  /** Ends a waiting long poll (with no updates) so the server can close. */
  close(): void {
    this.#poll?.wake();
  }

  #confirm(offset: number | undefined): void {
    if (offset === undefined || offset === 0) return;
    this.#pending =
      offset < 0 ? this.#pending.slice(offset) : this.#pending.filter((u) => u.update_id >= offset);
  }

  #take(limit: number): Update[] {
    // Telegram never stores updates of types the bot did not ask for.
    this.#pending = this.#pending.filter((update) => isAllowed(update, this.#allowed));
    return this.#pending.slice(0, limit);
  }

  async #deliver(webhook: WebhookConfig, update: Update): Promise<void> {
    try {
      const response = await postUpdate(webhook.url, update, webhook.secret_token);
      await response.arrayBuffer();
      if (!response.ok)
        this.#recordError(`Wrong response from the webhook: ${response.status} ${response.statusText}`);
    } catch (error) {
      this.#recordError(`Connection failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  #recordError(message: string): void {
    this.#lastWebhookError = { date: this.now(), message };
  }
}

function isAllowed(update: Update, allowed: readonly string[]): boolean {
  const type = Object.keys(update).find((key) => key !== 'update_id') ?? '';
  return allowed.length === 0 ? !NOT_SENT_BY_DEFAULT.has(type) : allowed.includes(type);
}
