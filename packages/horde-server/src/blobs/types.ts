/**
 * The image store port: generated images and source images, by key. Implementations side by side:
 * `sqlite.ts` (the embedded default: one database file beside the horde's), `filesystem.ts` (one file per
 * image) and `postgres.ts` (a table in the shared database: what several server nodes need, since any node
 * may be asked for any image). Keys are `[A-Za-z0-9._-]` only.
 */
export interface BlobStore {
  put(key: string, data: Uint8Array): Promise<void>;
  /** `undefined` when there is no such blob. */
  get(key: string): Promise<Uint8Array | undefined>;
  has(key: string): Promise<boolean>;
  delete(key: string): Promise<void>;
  /** Keys of blobs written before `before` (ms since the epoch), at most `limit`. */
  listOlderThan(before: number, limit: number): Promise<string[]>;
  /** Releases what the store holds open (a database connection). */
  close(): Promise<void>;
}

const KEY = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function isValidBlobKey(key: string): boolean {
  return KEY.test(key) && !key.includes('..');
}
