/** Image bytes on their way to the horde: WebP at quality 95, as reGen uploads them. */
import sharp from 'sharp';

export const WEBP_QUALITY = 95;

/** True when `data` is a RIFF/WEBP container. */
export function isWebp(data: Buffer): boolean {
  return (
    data.length >= 12 && data.toString('latin1', 0, 4) === 'RIFF' && data.toString('latin1', 8, 12) === 'WEBP'
  );
}

/** `data` as WebP: unchanged when it already is one, otherwise decoded and encoded at `WEBP_QUALITY`. */
export async function toWebp(data: Buffer): Promise<Buffer> {
  if (isWebp(data)) return data;
  return sharp(data).webp({ quality: WEBP_QUALITY }).toBuffer();
}
