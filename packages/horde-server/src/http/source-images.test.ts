import { describe, expect, it } from 'vitest';
import { HttpError } from './errors.js';
import { checkSourceImages } from './source-images.js';

/** A 1×1 WebP. */
const WEBP = 'UklGRiQAAABXRUJQVlA4IBgAAAAwAQCdASoBAAEAAQAcJaQAA3AA/v3AgAA=';

/** A PNG header claiming `width`×`height` (enough for the size lookup). */
function pngHeader(width: number, height: number): string {
  const bytes = Buffer.alloc(33);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(bytes, 0);
  bytes.writeUInt32BE(13, 8);
  bytes.write('IHDR', 12, 'ascii');
  bytes.writeUInt32BE(width, 16);
  bytes.writeUInt32BE(height, 20);
  return bytes.toString('base64');
}

function rcOf(body: unknown): string {
  try {
    checkSourceImages(body);
    return 'ok';
  } catch (error) {
    if (error instanceof HttpError) return error.rc;
    throw error;
  }
}

describe('source image checks', () => {
  it('accepts readable base64 images, data URLs and http(s) URLs', () => {
    expect(rcOf({ source_image: WEBP })).toBe('ok');
    expect(rcOf({ source_image: `data:image/webp;base64,${WEBP}`, source_mask: WEBP })).toBe('ok');
    expect(rcOf({ source_image: 'https://example.org/cat.webp' })).toBe('ok');
    expect(rcOf({ source_image: pngHeader(3072, 3072) })).toBe('ok');
    expect(rcOf({ prompt: 'no sources at all' })).toBe('ok');
  });

  it('refuses what cannot be read, with the field named', () => {
    expect(rcOf({ source_image: 'not an image at all!' })).toBe('SourceImageUnreadable');
    expect(rcOf({ source_image: Buffer.from('plain text, base64 encoded').toString('base64') })).toBe(
      'SourceImageUnreadable',
    );
    expect(() => checkSourceImages({ source_image: WEBP, source_mask: 'ftp://x/y' })).toThrow(/source_mask/);
    expect(rcOf({ extra_source_images: [{ image: WEBP }, { image: '@@@' }] })).toBe('SourceImageUnreadable');
  });

  it('refuses images beyond 3072×3072 pixels', () => {
    expect(rcOf({ source_image: pngHeader(3073, 512) })).toBe('SourceImageResolutionExceeded');
    expect(rcOf({ source_image: WEBP, source_mask: pngHeader(512, 4096) })).toBe(
      'SourceImageResolutionExceeded',
    );
  });
});
