/** The environment, read once and validated: the only place this app looks at `process.env`. */
import { z } from 'zod';

const EnvSchema = z.object({
  HORDEKIT_DATA_DIR: z.string().min(1).default('./data'),
  HORDEKIT_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('warn'),
  HORDEKIT_DEMO_JOBS: z.coerce.number().int().min(1).max(50).default(4),
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
