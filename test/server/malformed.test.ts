/**
 * Hostile requests against every endpoint (spec §4.9, upstream's `test_malformed_requests.py`): wrong
 * types, huge numbers, broken and deeply nested JSON, NUL bytes, oversized bodies, garbage ids, keys and
 * signatures. None may cause a 500; every error is JSON with a `message` and an `rc`; where the spec names
 * the status (NUL → 400 `NulByteInPayload`, a user id beyond int4 → 404 `UserNotFound`, …) it is that one.
 * Afterwards the server still answers and nobody was charged for the refused requests.
 */
import type { LedgerTotals } from '@hordekit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  HOSTILE_REQUESTS,
  type HostileFixture,
  type HostileRequest,
  resolvePlaceholders,
  type Sender,
} from '../support/hostile/index.js';
import {
  type CallResult,
  REGEN_AGENT,
  startTestServer,
  type TestAccount,
  type TestServer,
  TINY_WEBP_BASE64,
} from '../support/server.js';

let ts: TestServer;
let keys: Record<Sender, string | undefined>;
let fixture: HostileFixture;
let requester: TestAccount;
let ledgerBefore: LedgerTotals;
let requesterBefore: { balance: number; escrow: number };

async function moneyOf(accountId: number) {
  const account = await ts.horde.store.getAccount(accountId);
  return { balance: account!.balance, escrow: account!.escrow };
}

/** `<origin>/…/<key>?query` → the URL without its query, the base before the key, and the query. */
function splitSigned(url: string) {
  const parsed = new URL(url);
  const full = `${parsed.origin}${parsed.pathname}`;
  return { full, base: full.slice(0, full.lastIndexOf('/') + 1), query: parsed.search };
}

beforeAll(async () => {
  ts = await startTestServer();
  requester = await ts.user('hostile_requester', 1000);
  const owner = await ts.user('hostile_owner');
  const sender = await ts.user('hostile_sender', 100);
  const bystander = await ts.user('hostile_bystander');
  const seeder = await ts.user('hostile_seeder', 100);
  keys = {
    requester: requester.apiKey,
    worker: owner.apiKey,
    sender: sender.apiKey,
    admin: ts.admin.apiKey,
    anon: '0000000000',
    garbage: "'; DROP TABLE users; --ÿ",
    huge: 'k'.repeat(10 * 1024),
    none: undefined,
  };

  // Two real requests, both popped: one delivered (for a signed image URL), one left in flight (for a real
  // job id and a signed upload URL). They are the seeder's, so the requester's books stay untouched.
  const requestIds: string[] = [];
  for (let i = 0; i < 2; i++) {
    const accepted = await ts.call('POST', '/generate/async', {
      apikey: seeder.apiKey,
      body: { prompt: `seed request ${i}`, nsfw: false, models: ['stable_diffusion'], params: { steps: 20 } },
    });
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(202);
    requestIds.push(accepted.body.id);
  }
  const jobs = [];
  for (let i = 0; i < 2; i++) {
    const popped = await ts.call('POST', '/generate/pop', {
      apikey: owner.apiKey,
      body: { name: 'hostile-worker', models: ['stable_diffusion'], bridge_agent: REGEN_AGENT, amount: 1 },
    });
    expect(popped.body?.id, JSON.stringify(popped.body)).toBeTruthy();
    jobs.push(popped.body as { id: string; r2_uploads: string[] });
  }
  const [delivered, inFlight] = jobs as [(typeof jobs)[0], (typeof jobs)[0]];
  const upload = await fetch(delivered.r2_uploads[0]!, {
    method: 'PUT',
    body: Buffer.from(TINY_WEBP_BASE64, 'base64'),
    headers: { 'Content-Type': 'image/webp' },
  });
  expect(upload.status).toBeLessThan(300);
  const submitted = await ts.call('POST', '/generate/submit', {
    apikey: owner.apiKey,
    body: { id: delivered.id, generation: 'R2', state: 'ok', seed: 0 },
  });
  expect(submitted.status, JSON.stringify(submitted.body)).toBe(200);
  let image: string | undefined;
  for (const id of requestIds) {
    const status = await ts.call('GET', `/generate/status/${id}`);
    image ??= status.body.generations?.find((g: { id: string }) => g.id === delivered.id)?.img;
  }
  expect(image, 'the delivered image has a URL').toMatch(/^http/);
  const worker = await ts.call('GET', '/workers/name/hostile-worker');
  expect(worker.status).toBe(200);

  const uploadUrl = splitSigned(inFlight.r2_uploads[0]!);
  const imageUrl = splitSigned(image!);
  fixture = {
    requesterId: requester.id,
    bystanderId: bystander.id,
    bystanderAlias: bystander.alias,
    senderAlias: sender.alias,
    workerId: worker.body.id,
    jobId: inFlight.id,
    requestId: requestIds[0]!,
    uploadUrl: uploadUrl.full,
    uploadBase: uploadUrl.base,
    uploadQuery: uploadUrl.query,
    imageUrl: imageUrl.full,
    imageBase: imageUrl.base,
    imageQuery: imageUrl.query,
  };
  ledgerBefore = await ts.horde.store.ledgerTotals();
  requesterBefore = await moneyOf(requester.id);
}, 60_000);

afterAll(async () => {
  await ts?.close();
});

async function send(request: HostileRequest): Promise<CallResult> {
  const path = resolvePlaceholders(request.path, fixture);
  const url = request.root ? `${ts.origin}${path}` : path;
  const raw = typeof request.body === 'function' ? request.body() : request.body;
  const body = raw === undefined ? undefined : resolvePlaceholders(raw, fixture);
  return ts.call(request.method, url, { apikey: keys[request.as], body, headers: request.headers });
}

function describeResponse(request: HostileRequest, response: CallResult): string {
  const body = typeof response.body === 'string' ? response.body : JSON.stringify(response.body);
  const path = resolvePlaceholders(request.path, fixture).slice(0, 200);
  return `${request.method} ${path} → ${response.status} ${response.headers.get('content-type')} ${body?.slice(0, 300)}`;
}

describe('hostile requests', () => {
  it('has at least 100 cases', () => {
    expect(HOSTILE_REQUESTS.length).toBeGreaterThanOrEqual(100);
  });

  it.each(HOSTILE_REQUESTS)('$name', async (request) => {
    const response = await send(request);
    const seen = describeResponse(request, response);
    expect(response.status, seen).toBeLessThan(500);
    const expected = request.status ?? '4xx';
    if (typeof expected === 'number') expect(response.status, seen).toBe(expected);
    else if (expected === '4xx') expect(response.status, seen).toBeGreaterThanOrEqual(400);

    const type = response.headers.get('content-type') ?? '';
    if (request.html && type.startsWith('text/html')) return;
    expect(type, seen).toMatch(/^application\/json/);
    expect(typeof response.body, seen).toBe('object');
    if (response.status >= 400) {
      expect(response.body?.message, seen).toEqual(expect.any(String));
      expect(response.body.message.length, seen).toBeGreaterThan(0);
      expect(response.body.rc, seen).toEqual(expect.any(String));
    }
    if (request.rc) expect(response.body?.rc, seen).toBe(request.rc);
  });

  it('leaves the server up and nobody charged', async () => {
    const heartbeat = await ts.call('GET', '/status/heartbeat');
    expect(heartbeat.status).toBe(200);
    expect.soft(await moneyOf(requester.id), 'the requester’s balance and escrow').toEqual(requesterBefore);
    const totals = await ts.horde.store.ledgerTotals();
    // Infinity − 0 = Infinity would pass the next check: every total must be an exact integer.
    expect
      .soft(Object.values(totals).every(Number.isSafeInteger), `ledger totals ${JSON.stringify(totals)}`)
      .toBe(true);
    expect
      .soft(totals.balances + totals.escrow, 'balances + escrow = minted − burnt')
      .toBe(totals.minted - totals.burnt);
    expect.soft(totals.burnt, 'kudos burnt by the hostile requests').toBe(ledgerBefore.burnt);
  });
});
