/**
 * A tolerant multipart/form-data parser for the fake Bot API. grammY writes part headers as
 * `content-disposition:form-data;name="x";filename=a.webp` (no spaces, unquoted filename), which the real
 * server accepts but Node 20's `Request.formData()` (and so Hono's `parseBody`) rejects.
 */
import type { UploadedFile } from '../fake-server.js';

const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');

export function multipartBoundary(contentType: string): string | undefined {
  const match = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return match?.[1] ?? match?.[2];
}

/** Parses a multipart body into fields: strings, or files as `{ filename, type, bytes }`. Later names win. */
export function parseMultipart(body: Buffer, boundary: string): Record<string, string | UploadedFile> {
  const fields: Record<string, string | UploadedFile> = {};
  const opening = Buffer.from(`--${boundary}`);
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  let cursor = body.indexOf(opening);
  if (cursor === -1) return fields;
  cursor += opening.length;
  while (cursor < body.length) {
    if (body[cursor] === 0x2d && body[cursor + 1] === 0x2d) break; // `--`: the closing delimiter
    const partStart = body.indexOf(CRLF, cursor) + CRLF.length;
    const partEnd = body.indexOf(delimiter, partStart);
    if (partStart < CRLF.length || partEnd === -1) break;
    const part = body.subarray(partStart, partEnd);
    const headerEnd = part.indexOf(HEADER_END);
    if (headerEnd !== -1) {
      const headers = parseHeaders(part.subarray(0, headerEnd).toString('utf8'));
      const content = part.subarray(headerEnd + HEADER_END.length);
      const disposition = headers.get('content-disposition') ?? '';
      const name = dispositionParam(disposition, 'name');
      const filename = dispositionParam(disposition, 'filename');
      if (name !== undefined) {
        fields[name] =
          filename === undefined
            ? content.toString('utf8')
            : {
                filename,
                type: headers.get('content-type') ?? 'application/octet-stream',
                bytes: Buffer.from(content),
              };
      }
    }
    cursor = partEnd + delimiter.length;
  }
  return fields;
}

function parseHeaders(block: string): Map<string, string> {
  const headers = new Map<string, string>();
  for (const line of block.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return headers;
}

function dispositionParam(disposition: string, key: string): string | undefined {
  const match = new RegExp(`(?:^|;)\\s*${key}=(?:"([^"]*)"|([^;]*))`, 'i').exec(disposition);
  if (!match) return undefined;
  return match[1] ?? match[2]?.trim();
}
