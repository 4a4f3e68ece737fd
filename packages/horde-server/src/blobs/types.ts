/**
 * The image store port: generated images and source images, by key. The embedded default is a folder;
 * several server nodes need a store they all reach (issue 6). Keys are `[A-Za-z0-9._-]` only.
 */
export interface BlobStore {
  put(key: string, data: Uint8Array): Promise<void>;
  /** `undefined` when there is no such blob. */
  get(key: string): Promise<Uint8Array | undefined>;
  has(key: string): Promise<boolean>;
  delete(key: string): Promise<void>;
  /** Keys of blobs written before `before` (ms since the epoch), at most `limit`. */
  listOlderThan(before: number, limit: number): Promise<string[]>;
}

const KEY = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function isValidBlobKey(key: string): boolean {
  return KEY.test(key) && !key.includes('..');
}
