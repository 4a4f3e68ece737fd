/** The environment, read once and validated: the only place this app looks at `process.env`. */
import { z } from 'zod';

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
  /** The built-in demo workers (procedural images and text, not AI); `0` turns them off. */
  HORDEKIT_DEMO_WORKER: flag.default(true),
});

export type Env = z.output<typeof EnvSchema>;

export function readEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const parsed = EnvSchema.safeParse(source);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((issue) => `${issue.path.join('.')}: ${issue.message}`)
      .join('; ');
    throw new Error(`invalid environment: ${problems}`);
  }
  return parsed.data;
}
