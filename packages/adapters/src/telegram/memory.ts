/**
 * What the adapter remembers between updates, all in bounded maps and lost on restart by design: none of
 * it is needed for correctness, only for comfort — who `@name` is (the Bot API cannot look users up by
 * username), which album sits above a buttons message, a user's recent pictures for inline mode, whether
 * someone is a chat admin (for a few minutes), and what an offered inline "draw this" result was about.
 */
import type { User } from 'grammy/types';

/** A Map that forgets its oldest entries beyond `limit`; setting a key again makes it the newest. */
export class BoundedMap<K, V> extends Map<K, V> {
  constructor(readonly limit: number) {
    super();
  }

  override set(key: K, value: V): this {
    this.delete(key);
    super.set(key, value);
    while (this.size > this.limit) this.delete(this.keys().next().value as K);
    return this;
  }
}

/** A picture the bot sent for someone, reusable by `file_id` (inline mode offers them again). */
export interface RecentImage {
  fileId: string;
  caption: string;
}

const RECENT_PER_USER = 10;

export class TelegramMemory {
  /** Lower-case username without `@` → user id. */
  readonly usernames = new BoundedMap<string, number>(20_000);
  /** `<chatId>:<messageId>` of a message carrying an album's text and buttons → the album's message ids. */
  readonly albums = new BoundedMap<string, number[]>(5_000);
  /** Token of an offered inline result → the query it would draw. */
  readonly inlineDraws = new BoundedMap<string, string>(5_000);
  /** Inline messages that show a photo now (their edits change the caption, not the text). */
  readonly inlinePhotos = new BoundedMap<string, true>(5_000);
  readonly #recent = new BoundedMap<number, RecentImage[]>(5_000);
  readonly #admins = new BoundedMap<string, { admin: boolean; until: number }>(20_000);

  /** Notes who a user is, so that `@username` can name them later. */
  rememberUser(user: User | undefined): void {
    if (user?.username && !user.is_bot) this.usernames.set(user.username.toLowerCase(), user.id);
  }

  userIdOf(username: string): number | undefined {
    return this.usernames.get(username.replace(/^@/, '').toLowerCase());
  }

  rememberImage(userId: number, image: RecentImage): void {
    const list = (this.#recent.get(userId) ?? []).filter((entry) => entry.fileId !== image.fileId);
    this.#recent.set(userId, [image, ...list].slice(0, RECENT_PER_USER));
  }

  /** Newest first. */
  recentImages(userId: number): readonly RecentImage[] {
    return this.#recent.get(userId) ?? [];
  }

  cachedAdmin(chatId: number, userId: number, now: number): boolean | undefined {
    const entry = this.#admins.get(`${chatId}:${userId}`);
    return entry && entry.until > now ? entry.admin : undefined;
  }

  cacheAdmin(chatId: number, userId: number, admin: boolean, until: number): void {
    this.#admins.set(`${chatId}:${userId}`, { admin, until });
  }
}
