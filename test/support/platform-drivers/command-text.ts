/**
 * What the drivers of text-command platforms (Telegram, Slack) type: a command's options as one line, the
 * way a person writes it — the main text option's words as they are, the others as `--name value`
 * (`a lighthouse at dusk --seed 77`); a command without a text option takes its values in order
 * (`@bob 20`).
 */
import type { ChatApp } from '@hordekit/adapters';
import type { DriverOption, DriverUser } from '@hordekit/adapters/testing';

export function commandText(
  chat: ChatApp,
  command: string,
  options: Record<string, DriverOption>,
  mention: (user: DriverUser) => string,
): string {
  const specs = chat.commands.find((candidate) => candidate.name === command)?.options ?? {};
  const main = Object.keys(specs).find((name) => specs[name]?.type === 'string');
  const word = (value: DriverOption) => {
    const text = typeof value === 'object' ? mention(value.user) : String(value);
    return /\s/.test(text) ? `"${text}"` : text;
  };
  if (!main) {
    const inOrder = Object.keys(specs).filter((name) => options[name] !== undefined);
    return inOrder.map((name) => word(options[name]!)).join(' ');
  }
  const flags = Object.entries(options)
    .filter(([name]) => name !== main)
    .map(([name, value]) => `--${name} ${word(value)}`);
  const text = options[main];
  return [
    ...(text === undefined ? [] : [typeof text === 'object' ? word(text) : String(text)]),
    ...flags,
  ].join(' ');
}
