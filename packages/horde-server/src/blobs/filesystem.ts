/**
 * A `BlobStore` in one directory: one file per key, written atomically (temp file + rename). Handy when
 * images should be plain files (served by a web server, backed up with rsync); on small VMs with a
 * journalling file system, creating a file costs hundreds of microseconds of kernel time, so the embedded
 * default is the SQLite store (`sqlite.ts`).
 *
 * The file calls are synchronous on purpose. An image lands in the page cache in tens of microseconds; the
 * promise API would instead open a `FileHandle` and hop to the libuv thread pool four times per image,
 * which on a small machine costs more CPU than the write and competes with the event loop for the cores
 * (measured: a quarter of the server's time in the upload cycle of `npm run bench:http`).
 */
import { randomBytes } from 'node:crypto';
import {
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { type BlobStore, isValidBlobKey } from './types.js';

export interface FilesystemBlobStoreOptions {
  /** Created (mode 0700) when missing. */
  dir: string;
}

export async function createFilesystemBlobStore(options: FilesystemBlobStoreOptions): Promise<BlobStore> {
  const { dir } = options;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // Temp files of a process that died mid-write.
  for (const name of readdirSync(dir)) if (name.startsWith('.tmp-')) rmSync(join(dir, name), { force: true });
  const tempPrefix = `.tmp-${randomBytes(4).toString('hex')}-`;
  let tempCounter = 0;
  const path = (key: string) => {
    if (!isValidBlobKey(key)) throw new Error(`invalid blob key: ${JSON.stringify(key)}`);
    return join(dir, key);
  };
  const missing = (error: unknown) => (error as NodeJS.ErrnoException).code === 'ENOENT';
  return {
    async put(key, data) {
      const target = path(key);
      const temp = join(dir, `${tempPrefix}${tempCounter++}`);
      try {
        writeFileSync(temp, data, { mode: 0o600 });
        renameSync(temp, target);
      } catch (error) {
        rmSync(temp, { force: true });
        throw error;
      }
    },
    async get(key) {
      try {
        return readFileSync(path(key));
      } catch (error) {
        if (missing(error)) return undefined;
        throw error;
      }
    },
    async has(key) {
      try {
        statSync(path(key));
        return true;
      } catch {
        return false;
      }
    },
    async delete(key) {
      try {
        unlinkSync(path(key));
      } catch (error) {
        if (!missing(error)) throw error;
      }
    },
    async listOlderThan(before, limit) {
      const keys: string[] = [];
      for (const name of readdirSync(dir)) {
        if (keys.length >= limit) break;
        if (!isValidBlobKey(name)) continue;
        const info = statSync(join(dir, name), { throwIfNoEntry: false });
        if (info && info.mtimeMs < before) keys.push(name);
      }
      return keys;
    },
    async close() {},
  };
}
