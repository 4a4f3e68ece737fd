/**
 * Who and where, in Slack's terms: a person's display name and whether they administer the workspace come
 * from `users.info` (is_admin / is_owner), cached a few minutes per person because every command and button
 * needs them; the place is the workspace (`team_id`), whose settings decide adult content (Slack marks no
 * channel adult). And a slash command's text as option values: mentions (`<@U123|bob>`) become user ids
 * for user options and readable names elsewhere.
 */
import type { webApi } from '@slack/bolt';
import type { AnyCommand } from '../framework/define.js';
import { parseTextOptions } from '../framework/text-options.js';
import type { Where, Who } from '../framework/types.js';
import { unescapeText } from './blocks.js';

interface Person {
  displayName: string;
  isAdmin: boolean;
  expiresAt: number;
}

/** Display names and admin flags from `users.info`, kept `ttlMs` per workspace and person. */
export class SlackPeople {
  readonly #cache = new Map<string, Person>();

  constructor(
    readonly ttlMs: number,
    readonly now: () => number = Date.now,
  ) {}

  async who(client: webApi.WebClient, teamId: string, userId: string, fallbackName: string): Promise<Who> {
    const key = `${teamId}:${userId}`;
    let person = this.#cache.get(key);
    if (!person || person.expiresAt <= this.now()) {
      person = await this.#lookUp(client, userId, fallbackName);
      this.#cache.set(key, person);
    }
    return { platform: 'slack', id: userId, displayName: person.displayName, isAdmin: person.isAdmin };
  }

  clear(): void {
    this.#cache.clear();
  }

  async #lookUp(client: webApi.WebClient, userId: string, fallbackName: string): Promise<Person> {
    try {
      const { user } = await client.users.info({ user: userId });
      const displayName =
        user?.profile?.display_name || user?.real_name || user?.profile?.real_name || user?.name;
      return {
        displayName: displayName || fallbackName,
        isAdmin: user?.is_admin === true || user?.is_owner === true || user?.is_primary_owner === true,
        expiresAt: this.now() + this.ttlMs,
      };
    } catch {
      // Without the users:read scope (or on a hiccup) nobody is an admin; try again soon rather than never.
      return {
        displayName: fallbackName,
        isAdmin: false,
        expiresAt: this.now() + Math.min(this.ttlMs, 30_000),
      };
    }
  }
}

export function slackWhere(teamId: string, channelId: string): Where {
  return {
    platform: 'slack',
    placeId: teamId,
    channelId,
    // Slack has no adult channels: adult content is a per-workspace setting (`/settings`).
    platformAdult: false,
    // `D…` is a direct-message conversation.
    isPrivate: channelId.startsWith('D'),
  };
}

/** `<@U123>` / `<@U123|bob>` (user mention), `<#C123|general>`, `<!here>`, `<https://x|label>`. */
const ESCAPE = /<([@#!]?)([^>|]*)(?:\|([^>]*))?>/g;
const USER_ID = /^[UW][A-Z0-9]{2,}$/;

export type CommandOptions = { ok: true; options: Record<string, unknown> } | { ok: false; problem: string };

/** The option values in a slash command's text, for `command`'s specs. */
export function commandOptions(command: AnyCommand, text: string): CommandOptions {
  const specs = command.options ?? {};
  const raw = parseTextOptions(specs, text);
  const options: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (typeof value !== 'string') {
      options[name] = value;
      continue;
    }
    if (specs[name]?.type !== 'user') {
      options[name] = readable(value);
      continue;
    }
    const id = userIdOf(value);
    if (!id) {
      return {
        ok: false,
        problem: `Name the person for \`${name}\` with an @-mention (like @someone), picked from Slack's list.`,
      };
    }
    options[name] = id;
  }
  return { ok: true, options };
}

/** The user id in a mention escape or a bare id; undefined for a plain `@name` Slack did not resolve. */
export function userIdOf(value: string): string | undefined {
  const mention = /^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$/.exec(value.trim());
  if (mention) return mention[1];
  return USER_ID.test(value.trim()) ? value.trim() : undefined;
}

/** Mentions and links as a person reads them (`@bob`, `#general`, the URL), the rest unescaped. */
function readable(value: string): string {
  const plain = value.replace(ESCAPE, (_match, sigil: string, target: string, label?: string) => {
    if (sigil === '@') return `@${label ?? target}`;
    if (sigil === '#') return `#${label ?? target}`;
    if (sigil === '!') return `@${(label ?? target).replace(/^@/, '')}`;
    return target;
  });
  return unescapeText(plain);
}
