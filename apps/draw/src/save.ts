/** Where the images go and what they are: output file names, the prompt as a slug, a WebP's size. */
import { extname, resolve } from 'node:path';

/** `a lighthouse at dusk!` → `a-lighthouse-at-dusk`; at most 48 characters; `image` when nothing is left. */
export function slugify(prompt: string): string {
  const slug = prompt
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48)
    .replace(/-+$/, '');
  return slug || 'image';
}

/**
 * The files for `count` images: `out` itself for one image, `name-1.ext`, `name-2.ext` … for several; without
 * `out`, `<slug of the prompt>.webp` in `cwd`. Absolute paths.
 */
export function outputPaths(options: { out?: string; prompt: string; count: number }, cwd: string): string[] {
  const base = resolve(cwd, options.out ?? `${slugify(options.prompt)}.webp`);
  if (options.count === 1) return [base];
  const extension = extname(base);
  const stem = base.slice(0, base.length - extension.length);
  return Array.from({ length: options.count }, (_, index) => `${stem}-${index + 1}${extension}`);
}

/** Width and height from a WebP's first chunk (lossy `VP8 `, lossless `VP8L` or extended `VP8X`), if it is one. */
export function webpSize(data: Buffer): { width: number; height: number } | undefined {
  if (
    data.length < 30 ||
    data.toString('latin1', 0, 4) !== 'RIFF' ||
    data.toString('latin1', 8, 12) !== 'WEBP'
  ) {
    return undefined;
  }
  switch (data.toString('latin1', 12, 16)) {
    case 'VP8 ':
      return { width: data.readUInt16LE(26) & 0x3fff, height: data.readUInt16LE(28) & 0x3fff };
    case 'VP8L': {
      const bits = data.readUInt32LE(21);
      return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
    }
    case 'VP8X':
      return { width: data.readUIntLE(24, 3) + 1, height: data.readUIntLE(27, 3) + 1 };
    default:
      return undefined;
  }
}
