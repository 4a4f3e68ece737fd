/**
 * Source images on image requests (spec §1.1, §4.9): a base64 `source_image`, `source_mask` or extra
 * source must decode to an image of at most 3072×3072 pixels; a URL must be http(s). Checked before the
 * engine sees the request, so a worker never pops something it cannot read. Dimensions come from the
 * image header (`image-size`), without decoding pixels.
 */
import { imageSize } from 'image-size';
import { decodeBase64Image } from '../images.js';
import { HttpError } from './errors.js';

export const MAX_SOURCE_SIDE = 3072;

function checkOne(field: string, value: unknown): void {
  if (typeof value !== 'string' || value.length === 0) return; // the schema reports wrong types
  if (/^https?:\/\//i.test(value)) {
    if (value.length > 2048)
      throw new HttpError('SourceImageUrlInvalid', `\`${field}\` is a URL longer than 2048 characters.`);
    return;
  }
  const bytes = decodeBase64Image(value);
  let size: { width?: number; height?: number } | undefined;
  try {
    size = bytes ? imageSize(bytes) : undefined;
  } catch {
    size = undefined;
  }
  if (!size?.width || !size.height) {
    throw new HttpError(
      'SourceImageUnreadable',
      `\`${field}\` is neither an http(s) URL nor a base64 image (WebP, PNG or JPEG) that can be read.`,
    );
  }
  if (size.width > MAX_SOURCE_SIDE || size.height > MAX_SOURCE_SIDE) {
    throw new HttpError(
      'SourceImageResolutionExceeded',
      `\`${field}\` is larger than ${MAX_SOURCE_SIDE}×${MAX_SOURCE_SIDE} pixels; scale it down first.`,
    );
  }
}

/** Throws a 400 naming the first unreadable or oversized source image of an image request body. */
export function checkSourceImages(body: unknown): void {
  if (!body || typeof body !== 'object') return;
  const fields = body as { source_image?: unknown; source_mask?: unknown; extra_source_images?: unknown };
  checkOne('source_image', fields.source_image);
  checkOne('source_mask', fields.source_mask);
  if (Array.isArray(fields.extra_source_images)) {
    fields.extra_source_images.forEach((extra, index) => {
      if (extra && typeof extra === 'object')
        checkOne(`extra_source_images.${index}.image`, (extra as { image?: unknown }).image);
    });
  }
}
