/**
 * Property test: whatever JSON arrives at any endpoint that takes a body — random values, and objects that
 * mix the endpoint's real field names with random values — the server answers below 500 with a JSON body
 * that carries a message, and it still serves a normal request afterwards.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestAccount, type TestServer } from '../support/server.js';

let ts: TestServer;
let user: TestAccount;
let workerId: string;

const FIELDS: Record<string, string[]> = {
  'POST /generate/async': [
    'prompt',
    'params',
    'models',
    'nsfw',
    'r2',
    'dry_run',
    'workers',
    'source_image',
    'webhook',
  ],
  'POST /generate/text/async': ['prompt', 'params', 'models', 'softprompt', 'dry_run', 'workers'],
  'POST /generate/pop': [
    'name',
    'models',
    'bridge_agent',
    'amount',
    'max_pixels',
    'threads',
    'blacklist',
    'nsfw',
  ],
  'POST /generate/text/pop': ['name', 'models', 'max_length', 'max_context_length', 'softprompts', 'threads'],
  'POST /generate/submit': ['id', 'generation', 'seed', 'state', 'gen_metadata'],
  'POST /generate/text/submit': ['id', 'generation', 'seed', 'state', 'gen_metadata'],
  'POST /kudos/transfer': ['username', 'amount'],
  'POST /kudos/award': ['username', 'amount'],
  'PUT /users/{user}': ['kudos', 'trusted', 'username', 'contact', 'public_workers', 'concurrency'],
  'PUT /workers/{worker}': ['maintenance', 'maintenance_msg', 'info', 'name', 'paused'],
  'POST /dev/test-user': ['username', 'oauth_id', 'kudos', 'trusted', 'moderator'],
};

const PARAM_FIELDS = [
  'width',
  'height',
  'steps',
  'n',
  'sampler_name',
  'cfg_scale',
  'loras',
  'max_length',
  'seed',
];

/** Objects built from the endpoint's own field names (and `params` with its own) holding anything. */
function bodies(fields: string[]) {
  const value = fc.oneof(
    fc.jsonValue({ maxDepth: 3 }),
    fc.dictionary(fc.constantFrom(...PARAM_FIELDS), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 6 }),
    fc.string({ maxLength: 40 }),
    fc.integer(),
    fc.double(),
  );
  return fc.oneof(
    fc.dictionary(fc.constantFrom(...fields), value, { maxKeys: fields.length }),
    fc.jsonValue(),
  );
}

beforeAll(async () => {
  ts = await startTestServer();
  user = await ts.user('fuzzed', 50);
  const pop = await ts.call('POST', '/generate/pop', {
    apikey: user.apiKey,
    body: { name: 'fuzzed worker', models: ['stable_diffusion'] },
  });
  workerId = (await ts.call('GET', '/workers/name/fuzzed worker')).body.id;
  expect(pop.status).toBe(200);
});
afterAll(() => ts.close());

describe('random bodies', () => {
  for (const [route, fields] of Object.entries(FIELDS)) {
    it(`${route} never answers 5xx`, async () => {
      const [method, template] = route.split(' ') as [string, string];
      const path = template.replace('{user}', String(user.id)).replace('{worker}', workerId);
      await fc.assert(
        fc.asyncProperty(bodies(fields), fc.boolean(), async (body, asAdmin) => {
          const response = await ts.call(method, path, {
            apikey: asAdmin ? ts.admin.apiKey : user.apiKey,
            body,
          });
          expect(response.status, JSON.stringify(body).slice(0, 300)).toBeLessThan(500);
          if (response.status >= 400) expect(typeof response.body.message).toBe('string');
        }),
        { numRuns: 60 },
      );
    });
  }

  it('leaves the server serving', async () => {
    expect((await ts.call('GET', '/status/heartbeat')).status).toBe(200);
    const totals = await ts.horde.store.ledgerTotals();
    expect(totals.balances + totals.escrow).toBe(totals.minted - totals.burnt);
    for (const total of Object.values(totals)) expect(Number.isSafeInteger(total)).toBe(true);
  });
});
