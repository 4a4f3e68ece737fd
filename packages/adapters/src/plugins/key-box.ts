/**
 * Linked AI Horde keys at rest: AES-256-GCM with a key derived (HKDF-SHA-256) from the operator's secret,
 * a random 96-bit nonce per key, and the owner (`discord:1234`) as associated data, so a sealed key moved
 * to another person's entry no longer opens. Sealed form: `v1.<nonce>.<tag>.<ciphertext>` (base64url).
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const VERSION = 'v1';
const MIN_SECRET_LENGTH = 16;

export class KeyBox {
  readonly #key: Buffer;

  /** `secret`: at least 16 characters (the community horde passes its signing secret). */
  constructor(secret: string) {
    if (secret.length < MIN_SECRET_LENGTH) {
      throw new Error(`the secret for linked keys must have at least ${MIN_SECRET_LENGTH} characters`);
    }
    this.#key = Buffer.from(hkdfSync('sha256', secret, 'hordekit', 'hordekit linked api keys v1', 32));
  }

  seal(plain: string, owner: string): string {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, nonce);
    cipher.setAAD(Buffer.from(owner));
    const sealed = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return [VERSION, nonce, cipher.getAuthTag(), sealed]
      .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
      .join('.');
  }

  /** The plain text, or `undefined` when it was sealed for someone else, with another secret, or altered. */
  open(sealed: string, owner: string): string | undefined {
    const [version, nonce, tag, body] = sealed.split('.');
    if (version !== VERSION || !nonce || !tag || body === undefined) return undefined;
    const authTag = Buffer.from(tag, 'base64url');
    // A shorter tag would be accepted by GCM and is far easier to forge: only the full 16 bytes open.
    if (authTag.length !== 16) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(nonce, 'base64url'));
      decipher.setAAD(Buffer.from(owner));
      decipher.setAuthTag(authTag);
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString(
        'utf8',
      );
    } catch {
      return undefined;
    }
  }
}
