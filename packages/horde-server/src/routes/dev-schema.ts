/** The body of `POST /api/v2/dev/test-user` (spec §5.1): every field optional, types checked. */
import { z } from 'zod';

export const TestUserInputSchema = z.object({
  username: z.string().min(3).max(30).default('test_user'),
  oauth_id: z.string().min(1).max(255).default('ci_test_user'),
  moderator: z.boolean().default(true),
  trusted: z.boolean().default(true),
  kudos: z.number().int().min(0).max(1_000_000_000).default(10_000),
});
