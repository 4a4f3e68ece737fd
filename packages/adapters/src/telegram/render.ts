/**
 * Framework messages in Telegram's terms: plain text (no parse mode, so nothing needs escaping) cut to
 * Telegram's limits, and button rows as an inline keyboard whose `callback_data` is `<action>|<payload>`
 * (`draw:redo|<uuid>` is 45 bytes). Data longer than Telegram's 64 bytes is kept in memory under a short
 * key (`~<n>`) instead, so it only works until a restart.
 */
import type { InlineKeyboardMarkup } from 'grammy/types';
import type { Button } from '../framework/types.js';
import { BoundedMap } from './memory.js';

export const MAX_TEXT = 4096;
export const MAX_CAPTION = 1024;
const MAX_CALLBACK_DATA = 64;
/** Actions are `<plugin>:<name>`; other callback data belongs to someone else's handlers. */
const ACTION = /^[a-z][a-z0-9-]{0,15}:[^|]+$/;

/** `text` within `limit` characters (Telegram refuses longer ones, and empty ones). */
export function clipText(text: string, limit: number): string {
  const shown = text.trim() === '' ? '…' : text;
  return shown.length > limit ? `${shown.slice(0, limit - 1)}…` : shown;
}

export interface ButtonRoute {
  action: string;
  payload: string;
}

export class CallbackCodec {
  readonly #long = new BoundedMap<string, ButtonRoute>(10_000);
  #next = 0;

  encode(route: ButtonRoute): string {
    const data = `${route.action}|${route.payload}`;
    if (Buffer.byteLength(data) <= MAX_CALLBACK_DATA) return data;
    const key = `~${(++this.#next).toString(36)}`;
    this.#long.set(key, route);
    return key;
  }

  /** The route of one of our buttons, or `undefined` for data that is not ours (or forgotten). */
  decode(data: string): ButtonRoute | undefined {
    if (data.startsWith('~')) return this.#long.get(data);
    const bar = data.indexOf('|');
    const route = { action: data.slice(0, bar), payload: data.slice(bar + 1) };
    return bar > 0 && ACTION.test(route.action) ? route : undefined;
  }

  /** The inline keyboard for `rows`; `undefined` when there are no buttons (an edit then removes them). */
  keyboard(rows: readonly Button[][] | undefined): InlineKeyboardMarkup | undefined {
    const inline_keyboard = (rows ?? [])
      .filter((row) => row.length > 0)
      .map((row) =>
        row.map((button) => ({ text: clipText(button.label, 64), callback_data: this.encode(button) })),
      );
    return inline_keyboard.length > 0 ? { inline_keyboard } : undefined;
  }
}
