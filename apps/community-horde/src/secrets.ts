/**
 * What the horde keeps in its data directory besides the database, readable by its owner only: the
 * secrets (API key pepper, image URL signing key) and, on the very first start, the admin's key.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

const SecretsSchema = z.object({ apiKeyPepper: z.string(), signingSecret: z.string().min(32) });
export type Secrets = z.output<typeof SecretsSchema>;

/**
 * Loads `secrets.json`, creating it on first start. A database created before this file existed was
 * hashed without a pepper, so it keeps an empty one (its keys stay valid).
 */
export function loadSecrets(dataDir: string, databaseExisted: boolean): Secrets {
  const path = join(dataDir, 'secrets.json');
  if (existsSync(path)) return SecretsSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
  const secrets = {
    apiKeyPepper: databaseExisted ? '' : randomBytes(32).toString('base64url'),
    signingSecret: randomBytes(32).toString('base64url'),
  };
  writeFileSync(path, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  return secrets;
}

export function adminKeyPath(dataDir: string): string {
  return join(dataDir, 'admin-key.txt');
}

/** Writes the admin's key once (owner-only). */
export function writeAdminKey(dataDir: string, alias: string, apiKey: string): string {
  const path = adminKeyPath(dataDir);
  writeFileSync(path, `# hordekit administrator ${alias}\n${apiKey}\n`, { mode: 0o600 });
  return path;
}
