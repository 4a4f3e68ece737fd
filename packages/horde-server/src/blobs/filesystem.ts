/** A `BlobStore` in one directory: one file per key, written atomically (temp file + rename). */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type BlobStore, isValidBlobKey } from './types.js';

export interface FilesystemBlobStoreOptions {
  /** Created (mode 0700) when missing. */
  dir: string;
}

export async function createFilesystemBlobStore(options: FilesystemBlobStoreOptions): Promise<BlobStore> {
  const { dir } = options;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = (key: string) => {
    if (!isValidBlobKey(key)) throw new Error(`invalid blob key: ${JSON.stringify(key)}`);
    return join(dir, key);
  };
  return {
    async put(key, data) {
      const target = path(key);
      const temp = `${target}.${randomBytes(6).toString('hex')}.tmp`;
      await writeFile(temp, data, { mode: 0o600 });
      await rename(temp, target);
    },
    async get(key) {
      try {
        return await readFile(path(key));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
    },
    async has(key) {
      try {
        await stat(path(key));
        return true;
      } catch {
        return false;
      }
    },
    async delete(key) {
      await rm(path(key), { force: true });
    },
    async listOlderThan(before, limit) {
      const keys: string[] = [];
      for (const name of await readdir(dir)) {
        if (keys.length >= limit) break;
        if (name.endsWith('.tmp') || !isValidBlobKey(name)) continue;
        const info = await stat(join(dir, name)).catch(() => undefined);
        if (info && info.mtimeMs < before) keys.push(name);
      }
      return keys;
    },
  };
}
