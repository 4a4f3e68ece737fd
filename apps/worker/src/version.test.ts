import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BRIDGE_AGENT, WORKER_URL, WORKER_VERSION } from './version.js';

describe('version', () => {
  it('WORKER_VERSION is the version in package.json', () => {
    const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    expect(WORKER_VERSION).toBe(manifest.version);
  });

  it('BRIDGE_AGENT is name:version:url, as the horde parses it', () => {
    expect(BRIDGE_AGENT).toMatch(/^hordekit-worker:\d+\.\d+\.\d+:https:\/\//);
    expect(BRIDGE_AGENT).toBe(`hordekit-worker:${WORKER_VERSION}:${WORKER_URL}`);
  });
});
