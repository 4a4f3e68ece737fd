/** The remote client's pure parts: spellings of a horde's URL, and the SSE line parser. */
import { describe, expect, it } from 'vitest';
import { hordeRoutes } from './routes.js';
import { readServerSentEvents } from './stream.js';

describe('hordeRoutes', () => {
  it('accepts the site, /api and /api/v2, with or without a trailing slash', () => {
    for (const url of [
      'https://h.example',
      'https://h.example/',
      'https://h.example/api',
      'https://h.example/api/v2/',
    ]) {
      expect(hordeRoutes(url)).toEqual({ api: 'https://h.example/api/v2', root: 'https://h.example' });
    }
  });

  it('keeps a path prefix in front of /api', () => {
    expect(hordeRoutes('https://h.example/horde/api')).toEqual({
      api: 'https://h.example/horde/api/v2',
      root: 'https://h.example/horde',
    });
  });
});

describe('readServerSentEvents', () => {
  it('reads events split anywhere, CRLF lines, comments and multi-line data', async () => {
    const text = ': hello\r\nevent: state\r\ndata: {"a":\r\ndata: 1}\r\n\r\nevent: done\ndata: {}\n\n';
    const bytes = new TextEncoder().encode(text);
    // Every chunk size splits somewhere else, CRLFs included.
    for (let size = 1; size <= 12; size++) {
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < bytes.length; i += size) controller.enqueue(bytes.slice(i, i + size));
          controller.close();
        },
      });
      const events = [];
      for await (const event of readServerSentEvents(body)) events.push(event);
      expect(events).toEqual([
        { event: 'state', data: '{"a":\n1}' },
        { event: 'done', data: '{}' },
      ]);
    }
  });
});
