/**
 * A framework message in Slack's terms: the text escaped for mrkdwn, and buttons as Block Kit `actions`
 * blocks whose `block_id` marks them as ours (`hordekit:<row>`) so that the adapter's one `bolt.action`
 * listener sees only its own presses, whatever else the Bolt app serves. A button's `action_id` is the
 * framework action (`draw:redo`), suffixed `#n` only when a row repeats it (Slack wants action ids unique
 * within a block); its `value` is the payload.
 */
import type { types } from '@slack/bolt';
import type { Button, OutgoingMessage } from '../framework/types.js';

/** The `block_id` prefix of the actions blocks this adapter renders. */
export const BLOCK_PREFIX = 'hordekit:';
export const OUR_BLOCKS = /^hordekit:/;

/** Slack's limits: section text, buttons per actions block, button label, button value. */
const SECTION_CHARS = 3000;
const BUTTONS_PER_BLOCK = 25;
const LABEL_CHARS = 75;
const VALUE_CHARS = 2000;
/** `chat.postMessage` accepts at most 40 000 characters of top-level text; 4 000 is what Slack shows unfolded. */
const TEXT_CHARS = 40_000;

/** `&`, `<` and `>` are control characters in Slack text; everything else shows as written. */
export function escapeText(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/** What a user typed, as Slack delivers it (the three control characters escaped) back to plain text. */
export function unescapeText(text: string): string {
  return text.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');
}

export interface SlackContent {
  /** Top-level text: the whole message when there are no blocks, the notification fallback otherwise. */
  text: string;
  /** Present when the message has buttons. */
  blocks?: types.KnownBlock[];
}

export function renderMessage(message: OutgoingMessage): SlackContent {
  const text = escapeText(message.text).slice(0, TEXT_CHARS);
  const rows = (message.buttons ?? []).filter((row) => row.length > 0);
  if (rows.length === 0) return { text };
  return { text, blocks: [...sections(text), ...rows.flatMap(actionsBlocks)] };
}

function sections(text: string): types.SectionBlock[] {
  const blocks: types.SectionBlock[] = [];
  for (let start = 0; start < text.length; start += SECTION_CHARS) {
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: text.slice(start, start + SECTION_CHARS) },
    });
  }
  return blocks;
}

function actionsBlocks(row: Button[], rowIndex: number): types.ActionsBlock[] {
  const blocks: types.ActionsBlock[] = [];
  for (let start = 0; start < row.length; start += BUTTONS_PER_BLOCK) {
    const seen = new Map<string, number>();
    const elements = row.slice(start, start + BUTTONS_PER_BLOCK).map((button): types.Button => {
      const count = (seen.get(button.action) ?? 0) + 1;
      seen.set(button.action, count);
      return {
        type: 'button',
        action_id: count === 1 ? button.action : `${button.action}#${count}`,
        text: { type: 'plain_text', text: button.label.slice(0, LABEL_CHARS), emoji: true },
        value: button.payload.slice(0, VALUE_CHARS),
        ...(button.style === 'primary' || button.style === 'danger' ? { style: button.style } : {}),
      };
    });
    const part = start === 0 ? '' : `.${start / BUTTONS_PER_BLOCK}`;
    blocks.push({ type: 'actions', block_id: `${BLOCK_PREFIX}${rowIndex}${part}`, elements });
  }
  return blocks;
}

/** The framework action behind a button's `action_id` (the `#n` suffix removed). */
export function actionOf(actionId: string): string {
  return actionId.replace(/#\d+$/, '');
}
