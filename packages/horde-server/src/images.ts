/**
 * Images on the wire (spec §1.1, §7.4). Workers get one signed PUT URL per job in `r2_upload(s)` and may
 * instead submit base64 (legacy bridges); requesters get a signed GET URL per image when the request had
 * `r2: true`, base64 when `r2: false`. Base64 source images are handed to bridges with the `r2_source`
 * capability as URLs too. Images live in the `BlobStore` until their request is gone.
 */
import { randomBytes } from 'node:crypto';
import { bridgeProfile, type Horde, type PopJob } from '@hordekit/core';
import { signQuery, verifySignature } from './blobs/signing.js';
import type { BlobStore } from './blobs/types.js';
import { HttpError } from './http/errors.js';

/** Upload and download URLs stay valid this long (the AI Horde's presigned URLs: 30 minutes). */
export const URL_LIFETIME_SECONDS = 1800;
/** Images younger than this are never swept, whatever the state of their request. */
const MIN_IMAGE_AGE_MS = 30 * 60_000;

export interface ImageUrlsOptions {
  horde: Horde;
  blobs: BlobStore;
  secret?: string | undefined;
  publicUrl?: string | undefined;
}

export type ImageUrls = ReturnType<typeof createImageUrls>;

export function resultKey(jobId: string): string {
  return `${jobId}.webp`;
}

const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

/** Bytes of a base64 (or data-URL) image; `undefined` when it is not base64. */
export function decodeBase64Image(value: string): Buffer | undefined {
  const body = value.startsWith('data:') ? value.slice(value.indexOf(',') + 1) : value;
  const compact = body.replace(/\s+/g, '');
  if (compact.length < 8 || !BASE64.test(compact)) return undefined;
  return Buffer.from(compact, compact.includes('-') || compact.includes('_') ? 'base64url' : 'base64');
}

export function createImageUrls(options: ImageUrlsOptions) {
  const { horde, blobs } = options;
  const secret = options.secret ?? randomBytes(32).toString('hex');
  const nowSeconds = () => Math.floor(horde.clock.now() / 1000);

  function base(origin: string): string {
    return `${options.publicUrl ?? origin}/api/v2`;
  }
  function signed(origin: string, route: 'uploads' | 'images', method: 'PUT' | 'GET', key: string) {
    const expires = nowSeconds() + URL_LIFETIME_SECONDS;
    return `${base(origin)}/${route}/${key}?${signQuery(secret, method, key, expires)}`;
  }

  async function storeSource(requestId: string, part: string, value: string, origin: string) {
    if (/^https?:\/\//i.test(value)) return value;
    const bytes = decodeBase64Image(value);
    if (!bytes) return value;
    const key = `${requestId}-${part}.webp`;
    if (!(await blobs.has(key))) await blobs.put(key, bytes);
    return signed(origin, 'images', 'GET', key);
  }

  return {
    uploadUrl: (origin: string, jobId: string) => signed(origin, 'uploads', 'PUT', resultKey(jobId)),
    downloadUrl: (origin: string, key: string) => signed(origin, 'images', 'GET', key),

    verify(method: 'PUT' | 'GET', key: string, expires?: string, sig?: string): void {
      if (!verifySignature(secret, method, key, expires, sig, nowSeconds())) {
        throw new HttpError(
          'Forbidden',
          'This image URL is not valid: its signature does not match or it expired. Pop again (workers) or fetch the status again (requesters) for a fresh one.',
        );
      }
    },

    /** The pop's image fields for this worker: upload URLs, and sources as URLs where the bridge fetches them. */
    async popFields(origin: string, job: PopJob, bridgeAgent: string) {
      const profile = bridgeProfile(bridgeAgent, {
        kind: 'image',
        permissiveUnknownBridges: horde.config.workers.permissiveUnknownBridges,
      });
      const fields: Record<string, unknown> = {};
      if (profile.capabilities.has('r2')) {
        const uploads = job.ids.map((id) => signed(origin, 'uploads', 'PUT', resultKey(id)));
        fields.r2_upload = uploads[0];
        fields.r2_uploads = uploads;
      }
      const asUrl = profile.capabilities.has('r2_source');
      if (job.source_image !== undefined) {
        fields.source_image = asUrl
          ? await storeSource(job.requestId, 'source', job.source_image, origin)
          : job.source_image;
        fields.source_processing = job.source_processing ?? 'img2img';
      }
      if (job.source_mask !== undefined) {
        fields.source_mask = asUrl
          ? await storeSource(job.requestId, 'mask', job.source_mask, origin)
          : job.source_mask;
      }
      if (job.extra_source_images?.length) {
        fields.extra_source_images = await Promise.all(
          job.extra_source_images.map(async (extra, index) => ({
            image: asUrl
              ? await storeSource(job.requestId, `extra-${index}`, extra.image, origin)
              : extra.image,
            strength: extra.strength,
          })),
        );
      }
      return fields;
    },

    /**
     * What a requester sees as `img`: a signed URL (`r2: true`) or base64. Results submitted as base64
     * straight to the engine (an in-process worker) are moved into the store the first time a URL is asked
     * for; `"N/A"` when the worker never uploaded anything.
     */
    async imageFor(origin: string, jobId: string, generation: string, r2: boolean): Promise<string> {
      const key = resultKey(jobId);
      const inline = generation !== 'R2' ? generation : undefined;
      if (r2) {
        if (await blobs.has(key)) return signed(origin, 'images', 'GET', key);
        const bytes = inline === undefined ? undefined : decodeBase64Image(inline);
        if (!bytes) return 'N/A';
        await blobs.put(key, bytes);
        return signed(origin, 'images', 'GET', key);
      }
      const bytes = await blobs.get(key);
      if (bytes) return Buffer.from(bytes).toString('base64');
      return inline ?? 'N/A';
    },

    /** Deletes images older than 30 minutes whose request has expired or is gone. */
    async sweep(): Promise<number> {
      const keys = await blobs.listOlderThan(horde.clock.now() - MIN_IMAGE_AGE_MS, 10_000);
      let deleted = 0;
      for (const key of keys) {
        const id = key.slice(0, 36);
        const requestId = key.length > 41 && key[36] === '-' ? id : (await horde.store.getJob(id))?.requestId;
        const request = requestId ? await horde.store.getRequest(requestId) : undefined;
        if (request && request.state !== 'expired') continue;
        await blobs.delete(key);
        deleted++;
      }
      return deleted;
    },
  };
}

/** An `ImageReader` for `createEmbeddedClient`: result images by job id from this server's image store. */
export function blobImageReader(blobs: BlobStore): (jobId: string) => Promise<Uint8Array | undefined> {
  return (jobId) => blobs.get(resultKey(jobId));
}
