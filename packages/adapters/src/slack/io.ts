/**
 * The framework's `PlatformIO` on the Slack Web API, for one command or button press in one channel:
 *
 * - `reply` → `chat.postMessage` (text, plus Block Kit when there are buttons); ephemeral →
 *   `chat.postEphemeral` to the person; with images → the external upload flow (`filesUploadV2`:
 *   files.getUploadURLExternal, the bytes, files.completeUploadExternal) shared into the channel, the text
 *   and buttons as the share's message.
 * - `edit` → `chat.update`; an edit that brings images cannot be one (Slack adds no files to a message), so
 *   the files are shared as a new message and the old one is deleted: the returned `SentMessage` is the new.
 * - `delete` → `chat.delete`.
 *
 * A rate-limited call (HTTP 429, `Retry-After`) waits as long as Slack asks, then is tried once more.
 */
import type { Logger, webApi } from '@slack/bolt';
import type { ImageAttachment, OutgoingMessage, PlatformIO, SentMessage } from '../framework/types.js';
import { renderMessage } from './blocks.js';

/** What the adapter keeps to edit or delete a message later (`SentMessage.ref`). */
export interface SlackMessageRef {
  channel: string;
  /** The message's timestamp, its id in the channel; absent when Slack never reported a file share's. */
  ts?: string;
  /** Seen by one person only: Slack cannot update or delete it, except through a `response_url`. */
  ephemeral?: { user: string; responseUrl?: string };
  /** The files the message shows (ids). */
  files?: string[];
}

export interface SlackIOOptions {
  client: webApi.WebClient;
  channel: string;
  /** The person the invocation came from: ephemeral replies go to them. */
  user: string;
  editIntervalMs: number;
  /** The longest `Retry-After` worth waiting for; a longer one fails the call. */
  maxRetryAfterMs: number;
  /** The invocation's `response_url`: where to say so when the bot may not post in the channel. */
  responseUrl?: string;
  logger?: Logger;
}

/** Slack's answers for a channel the bot is not in (or cannot see, or that is archived). */
const NOT_HERE = new Set(['not_in_channel', 'channel_not_found', 'is_archived']);
export const NOT_HERE_TEXT =
  'I can’t post in this conversation: add me to it (/invite, then my name), or use me in a channel I’m in ' +
  'or in a direct message with me.';

/** How often, and how long after the upload, `files.info` is asked where a file was shared. */
const SHARE_LOOKUP_DELAYS_MS = [0, 250, 500, 1000, 2000];

export function slackRef(sent: SentMessage): SlackMessageRef {
  return sent.ref as SlackMessageRef;
}

export function createSlackIO(options: SlackIOOptions): PlatformIO {
  const { client, channel, user } = options;
  const call = <T>(run: () => Promise<T>) => retryRateLimited(run, options.maxRetryAfterMs);

  const sent = (ref: SlackMessageRef, id?: string): SentMessage => ({
    platform: 'slack',
    id: id ?? ref.ts ?? `file:${ref.files?.[0] ?? 'unknown'}`,
    ref,
  });

  async function post(target: string, message: OutgoingMessage): Promise<SentMessage> {
    if (message.images?.length) return share(target, message, message.images);
    const content = renderMessage(message);
    const result = await call(() => client.chat.postMessage({ channel: target, ...content }));
    return sent({ channel: result.channel ?? target, ts: result.ts! });
  }

  async function postEphemeral(message: OutgoingMessage): Promise<SentMessage> {
    // Files cannot be ephemeral: an ephemeral answer carries the text and buttons only.
    const content = renderMessage(message);
    const result = await call(() => client.chat.postEphemeral({ channel, user, ...content }));
    const ref: SlackMessageRef = { channel, ts: result.message_ts!, ephemeral: { user } };
    return sent(ref, `ephemeral:${result.message_ts}`);
  }

  async function share(target: string, message: OutgoingMessage, images: ImageAttachment[]) {
    const content = renderMessage(message);
    const result = await call(() =>
      client.filesUploadV2({
        channel_id: target,
        file_uploads: images.map((image) => ({
          file: Buffer.from(image.bytes),
          filename: image.filename,
          ...(image.description ? { alt_text: image.description.slice(0, 1000) } : {}),
        })),
        // Slack ignores `blocks` when `initial_comment` is set: with buttons, the text is in the blocks.
        ...(content.blocks ? { blocks: content.blocks } : { initial_comment: content.text }),
      }),
    );
    const files = result.files.flatMap((completion) => completion.files ?? []);
    const ids = files.flatMap((file) => (file.id ? [file.id] : []));
    const ts = await sharedTs(files, target);
    if (!ts) options.logger?.warn(`slack: no message ts for the files ${ids.join(', ')} in ${target}`);
    return sent({ channel: target, ...(ts ? { ts } : {}), files: ids });
  }

  /** `completeUploadExternal` answers with files, not the message: `files.info` → `shares` has its ts. */
  async function sharedTs(files: { id?: string; shares?: Shares }[], target: string) {
    const first = files[0];
    let found = first && tsIn(first.shares, target);
    for (const delay of SHARE_LOOKUP_DELAYS_MS) {
      if (found || !first?.id) break;
      if (delay > 0) await sleep(delay);
      const info = await call(() => client.files.info({ file: first.id! })).catch(() => undefined);
      found = tsIn(info?.file?.shares as Shares | undefined, target);
    }
    return found;
  }

  async function respond(url: string, body: Record<string, unknown>): Promise<void> {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`slack: response_url answered ${response.status}`);
  }

  // Slash commands work in channels the bot was never added to, where it cannot post: say so, once,
  // through the response_url (which works anywhere), then fail as before.
  let explained = false;
  async function explainNotHere(error: unknown): Promise<never> {
    const code = platformError(error);
    if (code && NOT_HERE.has(code) && options.responseUrl && !explained) {
      explained = true;
      await respond(options.responseUrl, { response_type: 'ephemeral', text: NOT_HERE_TEXT }).catch(() => {});
    }
    throw error;
  }

  return {
    editIntervalMs: options.editIntervalMs,

    reply: (message, replyOptions = {}) =>
      (replyOptions.ephemeral ? postEphemeral(message) : post(channel, message)).catch(explainNotHere),

    async edit(previous, message) {
      const ref = slackRef(previous);
      if (ref.ephemeral) {
        if (!ref.ephemeral.responseUrl) return postEphemeral(message);
        await respond(ref.ephemeral.responseUrl, { replace_original: true, ...renderMessage(message) });
        return previous;
      }
      if (message.images?.length) {
        const next = await share(ref.channel, message, message.images);
        // The new message is out: a progress message that will not go away is not worth failing for.
        await remove(ref).catch((error: unknown) =>
          options.logger?.warn('slack: old message not deleted', error),
        );
        return next;
      }
      if (!ref.ts) return post(ref.channel, message);
      const content = renderMessage(message);
      try {
        // `blocks: []` takes the old buttons away when the new version has none.
        const blocks = content.blocks ?? [];
        await call(() =>
          client.chat.update({ channel: ref.channel, ts: ref.ts!, text: content.text, blocks }),
        );
      } catch (error) {
        // Someone deleted the message meanwhile: the news still deserves a message.
        if (platformError(error) === 'message_not_found') return post(ref.channel, message);
        throw error;
      }
      return previous;
    },

    delete: (message) => remove(slackRef(message)),
  };

  async function remove(ref: SlackMessageRef): Promise<void> {
    if (ref.ephemeral) {
      if (ref.ephemeral.responseUrl) await respond(ref.ephemeral.responseUrl, { delete_original: true });
      return;
    }
    if (!ref.ts) return;
    await call(() => client.chat.delete({ channel: ref.channel, ts: ref.ts! })).catch((error: unknown) => {
      // Already gone is what was wanted.
      if (platformError(error) !== 'message_not_found') throw error;
    });
  }
}

type Shares = Partial<Record<'public' | 'private', Record<string, { ts?: string }[]>>>;

function tsIn(shares: Shares | undefined, channel: string): string | undefined {
  return (shares?.public?.[channel] ?? shares?.private?.[channel])?.[0]?.ts;
}

function platformError(error: unknown): string | undefined {
  const { code, data } = error as { code?: string; data?: { error?: string } };
  return code === 'slack_webapi_platform_error' ? data?.error : undefined;
}

/** How long Slack asked to wait, when `error` is a rate limit; undefined for any other failure. */
export function retryAfterMs(error: unknown): number | undefined {
  const { code, retryAfter, original, data } = error as {
    code?: string;
    retryAfter?: number;
    original?: { message?: string };
    data?: { error?: string; response_metadata?: { retryAfter?: number } };
  };
  // `rejectRateLimitedCalls: true`: web-api hands the 429 over with its Retry-After.
  if (code === 'slack_webapi_rate_limited_error') return (retryAfter ?? 1) * 1000;
  // Its own retries used up: web-api has already waited Retry-After before giving up.
  if (code === 'slack_webapi_request_error' && /rate limit was exceeded/i.test(original?.message ?? '')) {
    return 0;
  }
  if (code === 'slack_webapi_platform_error' && data?.error === 'ratelimited') {
    return (data.response_metadata?.retryAfter ?? 1) * 1000;
  }
  return undefined;
}

export async function retryRateLimited<T>(run: () => Promise<T>, maxWaitMs: number): Promise<T> {
  try {
    return await run();
  } catch (error) {
    const wait = retryAfterMs(error);
    if (wait === undefined || wait > maxWaitMs) throw error;
    await sleep(wait);
    return run();
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
