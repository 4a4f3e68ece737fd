/**
 * A framework message in Discord's terms: text as `content` (no pings unless we mean one), each image as
 * an attachment shown by its own embed (`attachment://<filename>`), and button rows as action rows whose
 * `custom_id` is `<action>|<payload>` so a press routes back to the plugin.
 */
import {
  ActionRowBuilder,
  AttachmentBuilder,
  ButtonBuilder,
  ButtonStyle,
  EmbedBuilder,
  type MessageActionRowComponentBuilder,
} from 'discord.js';
import type { Button, ButtonStyle as FrameworkButtonStyle, OutgoingMessage } from '../framework/types.js';

/** Discord's limits that a rendered message must respect. */
const MAX_CONTENT = 2000;
const MAX_CUSTOM_ID = 100;
const MAX_ROWS = 5;
const MAX_BUTTONS_PER_ROW = 5;
const MAX_EMBEDS = 10;
const MAX_LABEL = 80;

/** The fields every send/edit call of discord.js accepts (`channel.send`, `editReply`, `followUp`). */
export interface DiscordPayload {
  content: string;
  embeds: EmbedBuilder[];
  files: AttachmentBuilder[];
  /** On edits: keep none of the old attachments (the new `files` replace them). */
  attachments: [];
  components: ActionRowBuilder<MessageActionRowComponentBuilder>[];
  allowedMentions: { parse: []; users: string[] };
}

const STYLES: Readonly<Record<FrameworkButtonStyle, ButtonStyle>> = {
  primary: ButtonStyle.Primary,
  secondary: ButtonStyle.Secondary,
  danger: ButtonStyle.Danger,
};

/**
 * Renders `message`; `mention` (a user id) is put in front of the text and allowed to ping — used when
 * a channel message replaces an interaction response that can no longer be reached.
 */
export function renderMessage(message: OutgoingMessage, mention?: string): DiscordPayload {
  const images = (message.images ?? []).slice(0, MAX_EMBEDS);
  const files: AttachmentBuilder[] = [];
  const embeds: EmbedBuilder[] = [];
  images.forEach((image, index) => {
    const name = safeFilename(image.filename, index);
    const file = new AttachmentBuilder(Buffer.from(image.bytes), { name });
    if (image.description) file.setDescription(image.description.slice(0, 1024));
    files.push(file);
    const embed = new EmbedBuilder().setImage(`attachment://${name}`);
    if (image.description) embed.setFooter({ text: image.description.slice(0, 2048) });
    embeds.push(embed);
  });
  const prefix = mention ? `<@${mention}> ` : '';
  const text = `${prefix}${message.text}`;
  const content = text.length > MAX_CONTENT ? `${text.slice(0, MAX_CONTENT - 1)}…` : text;
  return {
    // Discord refuses a message with nothing in it.
    content: content.length > 0 || files.length > 0 ? content : '…',
    embeds,
    files,
    attachments: [],
    components: (message.buttons ?? [])
      .filter((row) => row.length > 0)
      .map(renderRow)
      .slice(0, MAX_ROWS),
    allowedMentions: { parse: [], users: mention ? [mention] : [] },
  };
}

function renderRow(row: Button[]): ActionRowBuilder<MessageActionRowComponentBuilder> {
  return new ActionRowBuilder<MessageActionRowComponentBuilder>().addComponents(
    row.slice(0, MAX_BUTTONS_PER_ROW).map((button) =>
      new ButtonBuilder()
        .setCustomId(encodeCustomId(button.action, button.payload))
        .setLabel(button.label.slice(0, MAX_LABEL))
        .setStyle(STYLES[button.style ?? 'secondary']),
    ),
  );
}

/** `<action>|<payload>`; Discord allows 100 characters, so a longer one is a plugin bug worth failing on. */
export function encodeCustomId(action: string, payload: string): string {
  const customId = `${action}|${payload}`;
  if (customId.length > MAX_CUSTOM_ID) {
    throw new Error(`button "${action}": action and payload exceed Discord's ${MAX_CUSTOM_ID} characters`);
  }
  return customId;
}

/** The action and payload of a `custom_id` we made; undefined for another bot's components. */
export function decodeCustomId(customId: string): { action: string; payload: string } | undefined {
  const separator = customId.indexOf('|');
  if (separator === -1) return undefined;
  const action = customId.slice(0, separator);
  // Framework actions are `<plugin>:<name>`; anything else belongs to the host bot.
  if (!/^[a-z][a-z0-9-]{0,15}:[\w-]+$/.test(action)) return undefined;
  return { action, payload: customId.slice(separator + 1) };
}

/** `attachment://` references need a plain filename. */
function safeFilename(filename: string, index: number): string {
  const cleaned = filename.replace(/[^\w.-]+/g, '_').slice(-100);
  return cleaned.length > 0 ? cleaned : `image-${index + 1}.webp`;
}
