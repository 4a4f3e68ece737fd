/** The environment, read once and validated: the only place this app looks at `process.env`. */
import { DEFAULT_CONFIG, type HordeConfigInput } from '@hordekit/core';
import { z } from 'zod';

const CONFIG_SECTIONS = new Set(Object.keys(DEFAULT_CONFIG));

const flag = z
  .string()
  .trim()
  .toLowerCase()
  .transform((value) => ['1', 'true', 'yes', 'on'].includes(value));

const EnvSchema = z.object({
  HORDEKIT_HOST: z.string().min(1).default('127.0.0.1'),
  HORDEKIT_PORT: z.coerce.number().int().min(0).max(65_535).default(7001),
  HORDEKIT_DATA_DIR: z.string().min(1).default('./data'),
  HORDEKIT_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Base URL for image links when the horde sits behind a proxy (`https://horde.example.org`). */
  HORDEKIT_PUBLIC_URL: z.url().optional(),
  /** Trust `X-Forwarded-For` (only behind a reverse proxy you run). */
  HORDEKIT_TRUST_PROXY: flag.default(false),
  /** `0` turns rate limits off (load tests); so does upstream's `HORDE_TEST_RATELIMIT_DISABLED=1`. */
  HORDEKIT_RATE_LIMITS: flag.default(true),
  HORDE_TEST_RATELIMIT_DISABLED: flag.default(false),
  /** Enables `POST /api/v2/dev/test-user` for loopback peers (spec §5.1). */
  HORDE_TEST_APIKEYS: flag.default(false),
  HORDEKIT_NAME: z.string().min(1).max(100).default('hordekit community horde'),
  /**
   * The built-in demo workers (procedural images and text, not AI). On by default on the embedded
   * database, off by default with DATABASE_URL (a shared horde has real workers); `0`/`1` decide.
   */
  HORDEKIT_DEMO_WORKER: flag.optional(),
  /** PostgreSQL as the system of record, shared by every node of the horde (`postgres://user:pass@host/db`). */
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'a PostgreSQL URL, like postgres://user:password@host:5432/database')
    .optional(),
  /** Redis for events between nodes and shared rate limits (`redis://host:6379`). */
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'a Redis URL, like redis://host:6379')
    .optional(),
  /** Prefix of this horde's Redis channel and keys, so that several hordes can share one Redis. */
  HORDEKIT_REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - (at most 64)')
    .default('hordekit'),
  /**
   * Any of the horde's numbers as JSON, by section (`{"queue":{"sweepIntervalMs":10000}}`); see
   * `HordeConfig` in @hordekit/core for the sections and their defaults.
   */
  HORDEKIT_CONFIG: z
    .string()
    .optional()
    .transform((text, ctx) => {
      if (text === undefined) return {};
      try {
        const value: unknown = JSON.parse(text);
        if (typeof value !== 'object' || value === null || Array.isArray(value))
          throw new Error('not an object');
        for (const [section, patch] of Object.entries(value)) {
          if (!CONFIG_SECTIONS.has(section)) throw new Error(`unknown section "${section}"`);
          if (typeof patch !== 'object' || patch === null || Array.isArray(patch))
            throw new Error(`section "${section}" is not an object`);
        }
        return value as HordeConfigInput;
      } catch (error) {
        ctx.addIssue({
          code: 'custom',
          message: `JSON of config sections (${(error as Error).message}), like {"queue":{"sweepIntervalMs":10000}}`,
        });
        return z.NEVER;
      }
    }),

  // Chat bots: each starts when its credentials are set.
  DISCORD_TOKEN: z.string().min(1).optional(),
  DISCORD_APPLICATION_ID: z
    .string()
    .regex(/^\d+$/, 'the application id is a number (Developer Portal → General Information)')
    .optional(),
  /** Register commands to this guild only (instant updates) instead of globally. */
  DISCORD_GUILD_ID: z.string().regex(/^\d+$/).optional(),
  /** Discord's REST base (`https://discord.com/api`), for a proxy or a test double. */
  DISCORD_API_URL: z.url().optional(),
  TELEGRAM_BOT_TOKEN: z.string().min(1).optional(),
  /** Telegram's Bot API root (`https://api.telegram.org`): Telegram's own local Bot API server uses this. */
  TELEGRAM_API_ROOT: z.url().optional(),
  SLACK_BOT_TOKEN: z.string().min(1).optional(),
  /** HTTP mode: requests to SLACK_PORT are verified with it. */
  SLACK_SIGNING_SECRET: z.string().min(1).optional(),
  /** Socket Mode instead of HTTP (an app-level `xapp-…` token). */
  SLACK_APP_TOKEN: z.string().min(1).optional(),
  /** HTTP mode: where Slack's requests arrive (`/slack/events`). */
  SLACK_PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
  /** Slack's Web API base (`https://slack.com/api/`). */
  SLACK_API_URL: z.url().optional(),
  /** The bots talk to this AI Horde instead of the embedded one (the public horde: https://aihorde.net). */
  HORDE_REMOTE_URL: z.url().optional(),
  /** The key the bots use on the remote horde (default: anonymous). */
  HORDE_REMOTE_API_KEY: z.string().min(1).default('0000000000'),
});

export type Env = z.output<typeof EnvSchema>;

/** Credentials that only make sense together, checked once so a half-configured bot is named, not ignored. */
function checkPairs(env: Env): string[] {
  const problems: string[] = [];
  if (env.DISCORD_TOKEN && !env.DISCORD_APPLICATION_ID)
    problems.push('DISCORD_TOKEN needs DISCORD_APPLICATION_ID');
  if (env.DISCORD_APPLICATION_ID && !env.DISCORD_TOKEN)
    problems.push('DISCORD_APPLICATION_ID needs DISCORD_TOKEN');
  if (env.SLACK_BOT_TOKEN && !env.SLACK_SIGNING_SECRET && !env.SLACK_APP_TOKEN) {
    problems.push('SLACK_BOT_TOKEN needs SLACK_SIGNING_SECRET (HTTP) or SLACK_APP_TOKEN (Socket Mode)');
  }
  if (!env.SLACK_BOT_TOKEN && (env.SLACK_SIGNING_SECRET || env.SLACK_APP_TOKEN)) {
    problems.push('SLACK_SIGNING_SECRET / SLACK_APP_TOKEN need SLACK_BOT_TOKEN');
  }
  return problems;
}

export function readEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const parsed = EnvSchema.safeParse(source);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((issue) => `${issue.path.join('.')}: ${issue.message}`)
      .join('; ');
    throw new Error(`invalid environment: ${problems}`);
  }
  const pairs = checkPairs(parsed.data);
  if (pairs.length > 0) throw new Error(`invalid environment: ${pairs.join('; ')}`);
  return parsed.data;
}
