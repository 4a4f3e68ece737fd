/**
 * Per-place settings (a Discord guild, a Telegram chat, a Slack workspace), kept in keyv: what admins
 * change with /settings and what the middleware and /draw read. Missing fields take the defaults.
 */
import Keyv from 'keyv';
import { z } from 'zod';
import type { Where } from './types.js';

export const PlaceSettingsSchema = z.object({
  /** Model used when /draw names none (none: any model the horde picks). */
  defaultModel: z.string().max(100).optional(),
  /** Models /draw may ask for here; empty: any. */
  allowedModels: z.array(z.string().max(100)).max(100).default([]),
  maxImages: z.number().int().min(1).max(4).default(4),
  maxSteps: z.number().int().min(1).max(150).default(50),
  /** Seconds between two requests of one person here. */
  cooldownSeconds: z.number().int().min(0).max(3600).default(10),
  /** Requests one person may have waiting at once here. */
  maxConcurrent: z.number().int().min(1).max(20).default(2),
  /**
   * Adult content: allowed only where the platform marks the place adult (Discord age-restricted channels)
   * or an admin set `adult` here (Telegram chats, Slack workspaces). Elsewhere requests go out `nsfw: false`
   * with the horde's censor on (`censor`), or adult-looking prompts are refused (`refuse`).
   */
  adult: z.boolean().default(false),
  sfwPolicy: z.enum(['censor', 'refuse']).default('censor'),
  /** Words that refuse a prompt here (case-insensitive, whole words). */
  bannedWords: z.array(z.string().min(1).max(50)).max(200).default([]),
});
export type PlaceSettings = z.output<typeof PlaceSettingsSchema>;
export type PlaceSettingsInput = z.input<typeof PlaceSettingsSchema>;

export const DEFAULT_SETTINGS: PlaceSettings = PlaceSettingsSchema.parse({});

export class SettingsStore {
  readonly #keyv: Keyv;

  /** `keyv`: any keyv instance (SQLite, Redis…); in memory when absent. */
  constructor(keyv?: Keyv) {
    this.#keyv = keyv ?? new Keyv({ namespace: 'hordekit-place-settings' });
  }

  static keyOf(where: Pick<Where, 'platform' | 'placeId'>): string {
    return `${where.platform}:${where.placeId}`;
  }

  async get(where: Pick<Where, 'platform' | 'placeId'>): Promise<PlaceSettings> {
    const stored = await this.#keyv.get(SettingsStore.keyOf(where));
    const parsed = PlaceSettingsSchema.safeParse(stored ?? {});
    // A value written by an older version that no longer fits falls back to the defaults, field by field.
    return parsed.success ? parsed.data : DEFAULT_SETTINGS;
  }

  /** Applies `changes` (validated) and returns the new settings. */
  async update(
    where: Pick<Where, 'platform' | 'placeId'>,
    changes: PlaceSettingsInput,
  ): Promise<PlaceSettings> {
    const current = await this.get(where);
    const next = PlaceSettingsSchema.parse({ ...current, ...changes });
    await this.#keyv.set(SettingsStore.keyOf(where), next);
    return next;
  }
}

/** Whether adult content may be asked for here. */
export function adultAllowed(where: Where, settings: PlaceSettings): boolean {
  return where.platformAdult || settings.adult;
}
