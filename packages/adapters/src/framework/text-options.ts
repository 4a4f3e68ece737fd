/**
 * Options from a command's free text, for platforms whose commands carry one string (Telegram's
 * `/draw a red fox --model Deliberate --count 2`, Slack's slash command text). `--name value` and
 * `name:value` set an option; every other word belongs to the command's main text option (the first string
 * option, e.g. the prompt), or, for a command without one, fill its options in order (`/transfer @bob 20`).
 * Quotes keep spaces: `--negative "blurry, text"`.
 */
import type { OptionSpecs } from './define.js';

/** Splits on spaces outside quotes ("…", '…', “…”); quotes are removed. */
export function tokenize(text: string): string[] {
  const tokens: string[] = [];
  const pattern = /"([^"]*)"|'([^']*)'|“([^”]*)”|(\S+)/g;
  for (const match of text.matchAll(pattern)) tokens.push(match[1] ?? match[2] ?? match[3] ?? match[4] ?? '');
  return tokens;
}

export interface TextOptionsHints {
  /** Values already known from elsewhere (a Telegram reply names the person); the text fills the rest. */
  preset?: Record<string, unknown>;
  /** Words that name a person (`@bob`, a mention): in a command without a text option they go to its `user` options first. */
  isPerson?: (word: string) => boolean;
}

/** The raw option values in `text` for `specs` (checked afterwards by `parseOptions`). */
export function parseTextOptions(
  specs: OptionSpecs,
  text: string,
  hints: TextOptionsHints = {},
): Record<string, unknown> {
  const names = Object.keys(specs);
  const main = names.find((name) => specs[name]?.type === 'string');
  const values: Record<string, unknown> = { ...hints.preset };
  const rest: string[] = [];
  const tokens = tokenize(text.trim());
  for (let index = 0; index < tokens.length; index += 1) {
    const token = tokens[index]!;
    const flag = /^--([a-z0-9_-]+)(?:=(.*))?$/i.exec(token);
    const pair = /^([a-z0-9_-]+):(.+)$/i.exec(token);
    const name = (flag?.[1] ?? pair?.[1])?.toLowerCase();
    if (name && names.includes(name)) {
      const spec = specs[name]!;
      if (flag && flag[2] === undefined && spec.type === 'boolean') {
        values[name] = true;
      } else if (flag) {
        values[name] = flag[2] ?? tokens[++index];
      } else {
        values[name] = pair?.[2];
      }
      continue;
    }
    rest.push(token);
  }
  if (main && rest.length > 0) {
    values[main] = values[main] === undefined ? rest.join(' ') : `${String(values[main])} ${rest.join(' ')}`;
  } else if (!main) {
    // A command without a text option takes its words in order: `/transfer @bob 20`; a word naming a person
    // goes to the first open `user` option.
    const open = (type?: string) =>
      names.find((name) => values[name] === undefined && (type === undefined || specs[name]?.type === type));
    for (const word of rest) {
      const name = (hints.isPerson?.(word) ? open('user') : undefined) ?? open();
      if (name) values[name] = word;
    }
  }
  return values;
}
