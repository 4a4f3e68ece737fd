/**
 * `X-Fields`, flask-restx's response mask (spec §0.1): `id,kudos` keeps two keys, `generations{id,img}`
 * masks inside a nested object or list, `*` keeps everything at its level. A mask that does not parse is
 * ignored rather than failing the request, as upstream does for unknown fields.
 */

export type FieldMask = Map<string, FieldMask | true>;

/** Parses a mask; `undefined` for an empty or malformed one. */
export function parseFieldMask(header: string | undefined): FieldMask | undefined {
  if (!header) return undefined;
  let text = header.trim();
  if (text.startsWith('{') && text.endsWith('}')) text = text.slice(1, -1);
  if (text.length > 2000) return undefined;
  let index = 0;
  function parseLevel(): FieldMask | undefined {
    const mask: FieldMask = new Map();
    let name = '';
    const flush = (nested?: FieldMask) => {
      const key = name.trim();
      if (key) mask.set(key, nested ?? true);
      name = '';
    };
    while (index < text.length) {
      const char = text[index++]!;
      if (char === ',') flush();
      else if (char === '{') {
        const nested = parseLevel();
        if (!nested) return undefined;
        flush(nested);
      } else if (char === '}') {
        flush();
        return mask;
      } else name += char;
    }
    flush();
    return mask;
  }
  const mask = parseLevel();
  return mask && mask.size > 0 ? mask : undefined;
}

/** Applies a mask to a JSON value: objects keep the listed keys, lists are masked element by element. */
export function applyFieldMask(value: unknown, mask: FieldMask): unknown {
  if (Array.isArray(value)) return value.map((item) => applyFieldMask(item, mask));
  if (!value || typeof value !== 'object' || mask.has('*')) return value;
  const out: Record<string, unknown> = {};
  for (const [key, nested] of mask) {
    if (!(key in value)) continue;
    const child = (value as Record<string, unknown>)[key];
    out[key] = nested === true ? child : applyFieldMask(child, nested);
  }
  return out;
}
