/**
 * The framework's `PlatformIO` on Discord. A command is deferred at once; its first reply of the same
 * visibility as the deferral edits that "thinking…" response, every other reply is a followup (ephemeral
 * when asked). Edits and deletes go through the interaction's webhook while its token lives (15 minutes,
 * used for 14); after that, or when Discord says the token is gone (50027), the bot posts a channel
 * message instead (a DM for private answers) and the `SentMessage` refers to that message from then on.
 */
import {
  type Client,
  DiscordAPIError,
  MessageFlags,
  RESTJSONErrorCodes,
  type RepliableInteraction,
  type SendableChannels,
} from 'discord.js';
import type { OutgoingMessage, PlatformIO, SentMessage } from '../framework/types.js';
import { renderMessage } from './render.js';

/** Where a message lives and how to reach it: what the adapter keeps in `SentMessage.ref`. */
export interface DiscordMessageRef {
  channelId: string;
  /** The person it answers: mentioned when a channel message has to stand in for it. */
  userId: string;
  ephemeral: boolean;
  /** Reachable through this interaction's webhook (`@original` or a followup's id) while its token lives. */
  webhook?: { interaction: RepliableInteraction; message: string };
}

/** Interaction tokens live 15 minutes; stop relying on one a minute before. */
const TOKEN_USABLE_MS = 14 * 60_000;
/** Discord allows five edits of a message per five seconds. */
export const EDIT_INTERVAL_MS = 1_000;

const tokenUsable = (interaction: RepliableInteraction): boolean =>
  Date.now() - interaction.createdTimestamp < TOKEN_USABLE_MS;

const tokenGone = (error: unknown): boolean =>
  error instanceof DiscordAPIError &&
  (error.code === RESTJSONErrorCodes.InvalidWebhookToken || error.code === RESTJSONErrorCodes.UnknownWebhook);

export function refOf(sent: SentMessage): DiscordMessageRef {
  const ref = sent.ref as Partial<DiscordMessageRef> | null;
  if (sent.platform !== 'discord' || typeof ref?.channelId !== 'string') {
    throw new Error(`message ${sent.id} was not sent by the Discord adapter`);
  }
  return ref as DiscordMessageRef;
}

const toSent = (id: string, ref: DiscordMessageRef): SentMessage => ({ platform: 'discord', id, ref });

/** Messages the bot sends and edits as itself: the fallback once an interaction token is gone. */
class BotMessages {
  constructor(readonly client: Client) {}

  /** A private answer goes to the user's DMs; a public one to the channel, mentioning the user. */
  async send(ref: DiscordMessageRef, message: OutgoingMessage): Promise<SentMessage> {
    if (ref.ephemeral) {
      const dm = await this.client.users.send(ref.userId, renderMessage(message));
      return toSent(dm.id, { channelId: dm.channelId, userId: ref.userId, ephemeral: false });
    }
    const channel = await this.#channel(ref.channelId);
    const posted = await channel.send(renderMessage(message, ref.userId));
    return toSent(posted.id, { channelId: ref.channelId, userId: ref.userId, ephemeral: false });
  }

  async edit(sent: SentMessage, ref: DiscordMessageRef, message: OutgoingMessage): Promise<SentMessage> {
    const channel = await this.#channel(ref.channelId);
    // A DM needs no mention; a channel message keeps the one it was posted with.
    const mention = channel.isDMBased() ? undefined : ref.userId;
    await channel.messages.edit(sent.id, renderMessage(message, mention));
    return sent;
  }

  async delete(channelId: string, messageId: string): Promise<void> {
    await (await this.#channel(channelId)).messages.delete(messageId);
  }

  async #channel(channelId: string): Promise<SendableChannels> {
    const channel =
      this.client.channels.cache.get(channelId) ?? (await this.client.channels.fetch(channelId));
    if (!channel?.isSendable()) throw new Error(`the bot cannot post in channel ${channelId}`);
    return channel;
  }
}

/** Edits and deletes of any message the adapter sent, whichever interaction sent it. */
class MessageOps {
  readonly bot: BotMessages;

  constructor(client: Client) {
    this.bot = new BotMessages(client);
  }

  async edit(sent: SentMessage, message: OutgoingMessage): Promise<SentMessage> {
    const ref = refOf(sent);
    const { webhook } = ref;
    if (!webhook) return this.bot.edit(sent, ref, message);
    if (tokenUsable(webhook.interaction)) {
      try {
        const edited = await webhook.interaction.editReply({
          ...renderMessage(message),
          message: webhook.message,
        });
        return toSent(edited.id, ref);
      } catch (error) {
        if (!tokenGone(error)) throw error;
      }
    }
    // The webhook message can no longer be edited: a bot message takes its place.
    const replacement = await this.bot.send(ref, message);
    if (!ref.ephemeral) await this.bot.delete(ref.channelId, sent.id).catch(() => {});
    return replacement;
  }

  async delete(sent: SentMessage): Promise<void> {
    const ref = refOf(sent);
    const { webhook } = ref;
    if (webhook && tokenUsable(webhook.interaction)) {
      try {
        await webhook.interaction.deleteReply(webhook.message);
        return;
      } catch (error) {
        if (!tokenGone(error)) throw error;
      }
    }
    // Without a token an ephemeral message cannot be reached; only its reader sees it, and can dismiss it.
    if (webhook && ref.ephemeral) return;
    await this.bot.delete(ref.channelId, sent.id);
  }
}

export type Deferral = 'public' | 'ephemeral' | 'none';

/** The `PlatformIO` of one command or button interaction (already deferred). */
export class InteractionIO implements PlatformIO {
  readonly editIntervalMs = EDIT_INTERVAL_MS;
  readonly #interaction: RepliableInteraction;
  readonly #ops: MessageOps;
  /** The deferred response still showing "thinking…", until a reply takes it over or it is deleted. */
  #deferred: Deferral;
  readonly #originalId: string | undefined;
  #replies: Promise<unknown> = Promise.resolve();

  constructor(interaction: RepliableInteraction, deferral: { kind: Deferral; originalId?: string }) {
    this.#interaction = interaction;
    this.#ops = new MessageOps(interaction.client);
    this.#deferred = deferral.kind;
    this.#originalId = deferral.originalId;
  }

  reply(message: OutgoingMessage, options: { ephemeral?: boolean } = {}): Promise<SentMessage> {
    // One at a time: whether a reply takes over the deferred response depends on the ones before it.
    const next = this.#replies.then(() => this.#reply(message, options.ephemeral === true));
    this.#replies = next.catch(() => {});
    return next;
  }

  edit(sent: SentMessage, message: OutgoingMessage): Promise<SentMessage> {
    return this.#ops.edit(sent, message);
  }

  delete(sent: SentMessage): Promise<void> {
    return this.#ops.delete(sent);
  }

  /** After the handler: a deferred response nobody replied into would say "thinking…" forever. */
  async close(): Promise<void> {
    await this.#replies;
    if (this.#deferred !== 'none') await this.#dropDeferred().catch(() => {});
  }

  async #reply(message: OutgoingMessage, ephemeral: boolean): Promise<SentMessage> {
    const interaction = this.#interaction;
    const ref: DiscordMessageRef = {
      channelId: interaction.channelId ?? '',
      userId: interaction.user.id,
      ephemeral,
    };
    if (tokenUsable(interaction)) {
      try {
        if (this.#deferred === (ephemeral ? 'ephemeral' : 'public')) {
          const edited = await interaction.editReply({ ...renderMessage(message), message: '@original' });
          this.#deferred = 'none';
          return toSent(edited.id, { ...ref, webhook: { interaction, message: '@original' } });
        }
        // The first followup would replace a deferred response with the deferral's visibility, so a reply
        // of the other visibility needs it gone first.
        if (this.#deferred !== 'none') await this.#dropDeferred();
        const { attachments: _keep, ...payload } = renderMessage(message);
        const sent = await interaction.followUp({
          ...payload,
          ...(ephemeral ? { flags: MessageFlags.Ephemeral } : {}),
        });
        return toSent(sent.id, { ...ref, webhook: { interaction, message: sent.id } });
      } catch (error) {
        if (!tokenGone(error)) throw error;
      }
    }
    const replacement = await this.#ops.bot.send(ref, message);
    if (this.#deferred !== 'none') await this.#dropDeferred().catch(() => {});
    return replacement;
  }

  /** Deletes the deferred response: through the webhook, or as the bot's own message once the token is gone. */
  async #dropDeferred(): Promise<void> {
    const kind = this.#deferred;
    this.#deferred = 'none';
    const interaction = this.#interaction;
    try {
      await interaction.deleteReply('@original');
    } catch (error) {
      if (!tokenGone(error) || kind !== 'public' || !this.#originalId) throw error;
      await this.#ops.bot.delete(interaction.channelId ?? '', this.#originalId);
    }
  }
}
