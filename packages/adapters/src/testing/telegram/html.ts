/**
 * `parse_mode: 'HTML'` as the Bot API documents it: the supported tags become entities, the four named
 * entities and numeric ones are decoded, and anything else (an unescaped `<` in a user's prompt, an unknown
 * tag, a missing end tag) fails with "can't parse entities", as the real server does.
 * MarkdownV2 and Markdown are not parsed by the fake: their text is stored as sent.
 */
import type { MessageEntity } from 'grammy/types';
import { badRequest } from './errors.js';

export interface FormattedText {
  text: string;
  entities?: MessageEntity[];
}

const SIMPLE_TAGS: Record<string, string> = {
  b: 'bold',
  strong: 'bold',
  i: 'italic',
  em: 'italic',
  u: 'underline',
  ins: 'underline',
  s: 'strikethrough',
  strike: 'strikethrough',
  del: 'strikethrough',
  'tg-spoiler': 'spoiler',
  code: 'code',
  pre: 'pre',
};
const NAMED_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"' };

interface OpenTag {
  name: string;
  offset: number;
  attributes: Map<string, string>;
  /** `undefined` for tags that produce no entity (`<a>` without href). */
  entity: Record<string, unknown> | undefined;
}

export function parseHtml(html: string): FormattedText {
  const fail = (what: string): never => {
    throw badRequest(`can't parse entities: ${what}`);
  };
  const at = (index: number) => `at byte offset ${Buffer.byteLength(html.slice(0, index))}`;
  const entities: MessageEntity[] = [];
  const open: OpenTag[] = [];
  let text = '';
  let index = 0;
  while (index < html.length) {
    const char = html[index]!;
    if (char === '&') {
      const semicolon = html.indexOf(';', index);
      const decoded = semicolon === -1 ? undefined : decodeEntity(html.slice(index + 1, semicolon));
      text += decoded ?? '&';
      index = decoded === undefined ? index + 1 : semicolon + 1;
      continue;
    }
    if (char !== '<') {
      text += char;
      index += 1;
      continue;
    }
    const end = html.indexOf('>', index);
    if (end === -1) fail(`Unclosed start tag ${at(index)}`);
    const tag = html.slice(index + 1, end);
    if (tag.startsWith('/')) {
      const name = tag.slice(1).trim().toLowerCase();
      const top = open.pop() ?? fail(`Unexpected end tag ${at(index)}`);
      if (name !== '' && name !== top.name) {
        fail(`Unmatched end tag ${at(index)}, expected "</${top.name}>", found "</${name}>"`);
      }
      closeTag(top, open.at(-1), text.length, entities);
    } else {
      const match = /^([a-zA-Z][\w-]*)(.*)$/s.exec(tag);
      const name = match?.[1]?.toLowerCase() ?? fail(`Unsupported start tag "${tag}" ${at(index)}`);
      const attributes = parseAttributes(match?.[2] ?? '');
      open.push({
        name,
        offset: text.length,
        attributes,
        entity: startEntity(name, attributes, fail, at(index)),
      });
    }
    index = end + 1;
  }
  const unclosed = open.at(-1);
  if (unclosed) fail(`Can't find end tag corresponding to start tag "${unclosed.name}"`);
  entities.sort((a, b) => a.offset - b.offset || b.length - a.length);
  return entities.length > 0 ? { text, entities } : { text };
}

function startEntity(
  name: string,
  attributes: Map<string, string>,
  fail: (what: string) => never,
  where: string,
): Record<string, unknown> | undefined {
  const simple = SIMPLE_TAGS[name];
  if (simple) return { type: simple };
  switch (name) {
    case 'blockquote':
      return { type: attributes.has('expandable') ? 'expandable_blockquote' : 'blockquote' };
    case 'span':
      if (attributes.get('class') !== 'tg-spoiler') fail(`Tag "span" must have class "tg-spoiler" ${where}`);
      return { type: 'spoiler' };
    case 'a': {
      const url = attributes.get('href');
      return url ? { type: 'text_link', url } : undefined;
    }
    case 'tg-emoji':
      return { type: 'custom_emoji', custom_emoji_id: attributes.get('emoji-id') ?? '' };
    default:
      return fail(`Unsupported start tag "${name}" ${where}`);
  }
}

function closeTag(tag: OpenTag, parent: OpenTag | undefined, end: number, entities: MessageEntity[]): void {
  const language = tag.attributes.get('class')?.match(/^language-(.+)$/)?.[1];
  if (tag.name === 'code' && parent?.name === 'pre' && language && parent.entity) {
    parent.entity.language = language; // <pre><code class="language-x"> is one pre entity
    return;
  }
  const length = end - tag.offset;
  if (tag.entity && length > 0) {
    entities.push({ ...tag.entity, offset: tag.offset, length } as unknown as MessageEntity);
  }
}

function parseAttributes(source: string): Map<string, string> {
  const attributes = new Map<string, string>();
  for (const match of source.matchAll(/([\w-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?/g)) {
    const raw = match[2] ?? match[3] ?? match[4] ?? '';
    attributes.set(
      match[1]!.toLowerCase(),
      raw.replace(/&(#?\w+);/g, (all, name: string) => decodeEntity(name) ?? all),
    );
  }
  return attributes;
}

function decodeEntity(name: string): string | undefined {
  const named = NAMED_ENTITIES[name];
  if (named) return named;
  const numeric = /^#(?:x([0-9a-f]+)|(\d+))$/i.exec(name);
  if (!numeric) return undefined;
  const code = numeric[1] === undefined ? Number(numeric[2]) : Number.parseInt(numeric[1], 16);
  return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : undefined;
}
