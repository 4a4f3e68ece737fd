/**
 * A horde under load that the crash test kills with SIGKILL and starts again on the same database:
 *
 *   node --import tsx --conditions=@hordekit/source test/support/crash-workload.ts <dbfile> <seed>
 *
 * It opens the SQLite store with the real clock, registers its accounts if they are absent, prints
 * `ready`, then loops until killed: image and text requests, pops, submits (ok, censored, faulted),
 * failures, cancellations, transfers (some replaying an idempotency key) and sweeps. After each call that
 * returned it appends a line to `<dbfile>.log` (see `crash-log.ts`). A `HordeError` is an expected
 * refusal; anything else ends the process with code 1 so the test sees it.
 */
import { openSync, writeSync } from 'node:fs';
import { type Credentials, createHorde, HordeError } from '@hordekit/core';
import { createSqliteStore } from '@hordekit/core/sqlite';
import { crashLogPath } from './crash-log.js';

const REGEN = 'AI Horde Worker reGen:13.0.0:https://github.com/Haidra-Org/horde-worker-reGen';
const MISTRAL = 'koboldcpp/Mistral-7B-Instruct-v0.2';
const USERNAMES = ['admin', 'alice', 'bobby', 'carol', 'dave'] as const;
type Username = (typeof USERNAMES)[number];

const WORKERS = [
  {
    name: 'crash-img-1',
    owner: 'bobby',
    kind: 'image',
    body: { models: ['stable_diffusion'], max_pixels: 1024 * 1024, amount: 3 },
  },
  {
    name: 'crash-img-2',
    owner: 'carol',
    kind: 'image',
    body: { models: ['stable_diffusion', 'Deliberate'] },
  },
  { name: 'crash-txt-1', owner: 'carol', kind: 'text', body: { models: [MISTRAL], amount: 2 } },
] as const;

const [databasePath, seedText = '1'] = process.argv.slice(2);
if (!databasePath) {
  process.stderr.write('usage: crash-workload.ts <dbfile> <seed>\n');
  process.exit(2);
}

/** mulberry32: a small seeded generator, so a run's choices follow its seed. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = seeded(Number(seedText));
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

const log = openSync(crashLogPath(databasePath), 'a');
const record = (line: string) => writeSync(log, `${line}\n`);

const store = await createSqliteStore({ path: databasePath });
const horde = await createHorde({ store, random, config: { accounts: { adminIds: [1] } } });

const ids = {} as Record<Username, number>;
for (const username of USERNAMES) {
  const existing = (await store.getAccountByUsername(username))[0];
  const account =
    existing ?? (await horde.registerAccount({ username, roles: { trusted: username === 'carol' } })).account;
  ids[username] = account.id;
}
if (ids.admin !== 1) throw new Error(`the admin account has id ${ids.admin}, not 1`);
const as = (username: Username): Credentials => ({ accountId: ids[username] });

for (const username of ['alice', 'dave'] as const) {
  const account = (await store.getAccount(ids[username]))!;
  if (account.details.admin !== 0) continue;
  await horde.modifyAccount(as('admin'), ids[username], { kudos: 2000 });
  record(`granted ${ids[username]}`);
}

// What a previous run left: jobs in flight and requests still waiting.
const inFlight: { id: string; kind: 'image' | 'text'; ownerId: number }[] = (
  await store.listExpiredLeases(Number.MAX_SAFE_INTEGER, 100_000)
).map((job) => ({ id: job.id, kind: job.kind, ownerId: job.workerOwnerId }));
const requests: string[] = [];
for (const username of USERNAMES) {
  for (const request of await store.listAccountRequests(ids[username])) requests.push(request.id);
}
const keys: string[] = [];

async function enqueue(): Promise<void> {
  const requester = pick(['alice', 'bobby', 'dave', 'dave'] as const);
  const image = random() < 0.7;
  const n = 1 + Math.floor(random() * 3);
  const result = image
    ? await horde.generateImage(as(requester), {
        prompt: pick(['a castle at dawn', 'a lighthouse', 'a quiet harbour']),
        params: { n, steps: pick([10, 30, 50]), width: pick([512, 768]), height: 512 },
        models: pick([['stable_diffusion'], ['Deliberate'], []]),
        allow_downgrade: random() < 0.5,
        slow_workers: random() < 0.9,
      })
    : await horde.generateText(as(requester), {
        prompt: 'Once upon a time',
        params: { n, max_length: pick([80, 200, 600]) },
        allow_downgrade: random() < 0.5,
      });
  if (!result.id) return;
  record(`accepted ${result.id} ${n}`);
  requests.push(result.id);
}

async function pop(): Promise<void> {
  const worker = pick(WORKERS);
  const body = { name: worker.name, bridge_agent: REGEN, ...worker.body };
  const result =
    worker.kind === 'image'
      ? await horde.popImage(as(worker.owner), body)
      : await horde.popText(as(worker.owner), body);
  if (!result.job) return;
  record(`popped ${result.job.requestId} ${result.job.ids.join(' ')}`);
  for (const id of result.job.ids) inFlight.push({ id, kind: worker.kind, ownerId: ids[worker.owner] });
}

async function submit(): Promise<void> {
  if (inFlight.length === 0) return;
  const [job] = inFlight.splice(Math.floor(random() * inFlight.length), 1);
  const roll = random();
  const state = roll < 0.15 ? 'faulted' : 'ok';
  const body = {
    id: job!.id,
    generation: job!.kind === 'image' ? 'R2' : 'It was a dark and stormy night.',
    seed: 1,
    ...(state === 'faulted' ? { state } : {}),
    ...(roll > 0.9 ? { gen_metadata: [{ type: 'censorship', value: 'nsfw' }] } : {}),
  };
  const credentials = { accountId: job!.ownerId };
  if (job!.kind === 'image') await horde.submitImage(credentials, body);
  else await horde.submitText(credentials, body);
  record(`submitted ${job!.id} ${state}`);
}

async function fail(): Promise<void> {
  if (inFlight.length === 0) return;
  const [job] = inFlight.splice(Math.floor(random() * inFlight.length), 1);
  await horde.failJob(job!.id);
}

async function cancel(): Promise<void> {
  if (requests.length === 0) return;
  const [id] = requests.splice(Math.floor(random() * requests.length), 1);
  await horde.cancelRequest(id!);
  record(`cancelled ${id}`);
}

async function transfer(): Promise<void> {
  const from = pick(['alice', 'dave', 'bobby', 'carol'] as const);
  const to = pick(USERNAMES.filter((name) => name !== from));
  let key: string | null = null;
  if (random() < 0.5) {
    key = keys.length > 0 && random() < 0.3 ? pick(keys) : `${from}-${process.pid}-${keys.length}`;
    keys.push(key);
  }
  const outcome = await horde.transfer(as(from), {
    to: `${to}#${ids[to]}`,
    amount: pick([1, 5, 20]),
    idempotencyKey: key,
  });
  record(`transfer ${outcome.transferId} ${outcome.replayed}`);
}

process.stdout.write('ready\n');
for (let step = 0; ; step++) {
  const roll = random();
  try {
    if (roll < 0.25) await enqueue();
    else if (roll < 0.5) await pop();
    else if (roll < 0.75) await submit();
    else if (roll < 0.8) await fail();
    else if (roll < 0.86) await cancel();
    else if (roll < 0.97) await transfer();
    else await horde.sweep();
  } catch (error) {
    if (!(error instanceof HordeError)) throw error;
  }
  // Give the event loop a turn now and then, as a server would between requests.
  if (step % 20 === 0) await new Promise((resolve) => setImmediate(resolve));
}
