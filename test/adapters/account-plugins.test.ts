/**
 * The built-in plugins beyond /draw and /kudos on the in-memory platform, against a real community horde:
 * `/settings` (admins change the place's limits and /draw obeys), `/cancel` (a waiting /draw ends
 * "cancelled"), `/worker` (a key sent privately once, that a worker pops with), and `/link` — one-time
 * codes across platforms on the embedded horde, a person's own encrypted key in remote mode.
 */
import {
  type AccountPlugin,
  accountPlugin,
  type ChatApp,
  cancelPlugin,
  createChatApp,
  createRemoteClient,
  DrawRequests,
  drawPlugin,
  kudosPlugin,
  SettingsStore,
  settingsPlugin,
} from '@hordekit/adapters';
import { type MemoryMessage, MemoryPlatform, memoryPlace, memoryUser } from '@hordekit/adapters/testing';
import { createEmbeddedClient } from '@hordekit/core';
import { FakeClock } from '@hordekit/core/testing';
import { blobImageReader } from '@hordekit/horde-server';
import type { ImageWorker } from '@hordekit/worker';
import Keyv from 'keyv';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startDemoWorker, waitForWorker } from '../support/chat-harness.js';
import { waitUntil } from '../support/horde-http.js';
import { REGEN_AGENT, startTestServer, type TestAccount, type TestServer } from '../support/server.js';

const place = memoryPlace('guild-1');
const admin = memoryUser('admin-id', 'Ada', true);
/** A Discord place and person for the other side of a link (the in-memory platform plays both). */
const discordPlace = { ...memoryPlace('discord-guild'), platform: 'discord' as const };
const discordUser = (id: string, displayName: string) => ({
  ...memoryUser(id, displayName),
  platform: 'discord' as const,
});

let platform: MemoryPlatform;
let clock: FakeClock;

function lastFor(userId: string, where = place): MemoryMessage {
  const message = platform.visible(where.channelId, userId).at(-1);
  if (!message) throw new Error(`nothing visible to ${userId} in ${where.channelId}`);
  return message;
}

describe('/settings and /cancel, with a worker drawing', () => {
  let ts: TestServer;
  let worker: ImageWorker;
  let owner: TestAccount;
  let workerId: string;
  let app: ChatApp;
  let requests: DrawRequests;

  beforeAll(async () => {
    ts = await startTestServer();
    ({ worker, owner } = await startDemoWorker(ts));
    workerId = await waitForWorker(ts);
  });
  afterAll(async () => {
    await worker?.stop({ halt: true });
    await ts?.close();
  });
  beforeEach(() => {
    platform = new MemoryPlatform();
    clock = new FakeClock(Date.now());
    const settings = new SettingsStore();
    requests = new DrawRequests();
    app = createChatApp({
      horde: {
        client: createEmbeddedClient(ts.horde, { readImage: blobImageReader(ts.server.blobs) }),
        mode: 'embedded',
      },
      settings,
      plugins: [
        drawPlugin({ requests }),
        cancelPlugin({ requests }),
        settingsPlugin({ store: settings }),
        kudosPlugin(),
      ],
      now: () => clock.now(),
    });
  });

  it('refuses /settings to non-admins; admins list and change it, and /draw obeys the cooldown and the models', async () => {
    const alice = memoryUser('settings-alice', 'Alice');
    await platform.command(app, alice, place, 'settings', { setting: 'cooldown', value: '0' });
    expect(lastFor(alice.id)).toMatchObject({
      visibleTo: alice.id,
      text: 'Only admins of this place can use /settings.',
    });

    await platform.command(app, admin, place, 'settings');
    const overview = lastFor(admin.id);
    expect(overview.visibleTo).toBe(admin.id);
    expect(overview.text).toMatch(/^Settings here \(change one with \/settings <name> <value>\):\n/);
    expect(overview.text).toContain(
      'cooldown: 10 s between two pictures of one person — a whole number from 0 to 3600',
    );
    expect(overview.text).toContain('models: any model');
    expect(overview.text).toContain('banned words: none');

    await platform.command(app, admin, place, 'settings', { setting: 'cooldown', value: '30' });
    expect(lastFor(admin.id)).toMatchObject({
      visibleTo: admin.id,
      text: 'cooldown is now: 30 s between two pictures of one person.',
    });
    // Text platforms deliver "models Deliberate" as the one string option.
    await platform.command(app, admin, place, 'settings', { value: 'models Deliberate' });
    expect(lastFor(admin.id).text).toBe(
      'models is now: Deliberate. No worker serves Deliberate right now (check the spelling with /models).',
    );
    expect((await app.settings.get(place)).allowedModels).toEqual(['Deliberate']);
    // A /draw that names no model asks for the allowed ones, not for any model.
    await platform.command(app, alice, place, 'draw', { prompt: 'a cat' });
    expect(lastFor(alice.id).text).toBe(
      'No worker serves Deliberate right now. Served now: stable_diffusion.',
    );

    await platform.command(app, alice, place, 'draw', { prompt: 'a cat', model: 'stable_diffusion' });
    expect(lastFor(alice.id).text).toBe('Here you can draw with: Deliberate.');

    await platform.command(app, admin, place, 'settings', {
      setting: 'models',
      value: 'Deliberate, stable_diffusion',
    });
    expect(lastFor(admin.id).text).toMatch(
      /^models is now: Deliberate, stable_diffusion\. No worker serves Deliberate right now/,
    );
    await platform.command(app, alice, place, 'draw', { prompt: 'a cat', model: 'stable_diffusion' });
    expect(lastFor(alice.id).text).toMatch(/^“a cat” — seed \d+ · stable_diffusion · drawn by demo-gpu/);
    clock.advance(20_000);
    await platform.command(app, alice, place, 'draw', { prompt: 'a dog', model: 'stable_diffusion' });
    expect(lastFor(alice.id)).toMatchObject({
      visibleTo: alice.id,
      text: 'Slow down a little: you can draw again in 10 s.',
    });

    await platform.command(app, admin, place, 'settings', { setting: 'models', value: 'any' });
    expect(lastFor(admin.id).text).toBe('models is now: any model.');
    await platform.command(app, admin, place, 'settings', { setting: 'cooldown' });
    expect(lastFor(admin.id).text).toBe(
      'cooldown: 30 s between two pictures of one person. Change it with /settings cooldown <value>: a whole number from 0 to 3600 (seconds).',
    );
  });

  it('explains every bad value and changes nothing', async () => {
    const refusals: [Record<string, string>, string][] = [
      [{ setting: 'cooldown', value: 'soon' }, '`cooldown` must be a whole number from 0 to 3600 (seconds).'],
      [
        { setting: 'cooldown', value: '99999' },
        '`cooldown` must be a whole number from 0 to 3600 (seconds).',
      ],
      [{ setting: 'max-images', value: '9' }, '`max-images` must be a whole number from 1 to 4.'],
      [{ setting: 'max-steps', value: '0' }, '`max-steps` must be a whole number from 1 to 150.'],
      [{ setting: 'concurrent', value: 'lots' }, '`concurrent` must be a whole number from 1 to 20.'],
      [{ setting: 'adult', value: 'perhaps' }, '`adult` must be `on` or `off`.'],
      [
        { setting: 'sfw', value: 'blur' },
        '`sfw` must be `censor` (adult pictures are blurred by the horde) or `refuse` (adult-looking prompts are refused).',
      ],
      [{ setting: 'models', value: ' , ,' }, '`models` needs model names separated by commas, or `any`.'],
      [{ setting: 'ban', value: 'x'.repeat(51) }, '`ban` must be a word or phrase of up to 50 characters.'],
      [{ setting: 'unban', value: 'dragon' }, '“dragon” is not banned here. Banned now: nothing.'],
      [
        { setting: 'colour', value: 'red' },
        '`setting` must be one of: cooldown, models, default-model, max-images, max-steps, concurrent, adult, sfw, ban, unban.',
      ],
      [
        { value: 'colour red' },
        'There is no setting “colour”. Settings: cooldown, models, default-model, max-images, max-steps, concurrent, adult, sfw, ban, unban.',
      ],
    ];
    for (const [options, sentence] of refusals) {
      await platform.command(app, admin, place, 'settings', options);
      expect(lastFor(admin.id), JSON.stringify(options)).toMatchObject({
        visibleTo: admin.id,
        text: sentence,
      });
    }
    expect(await app.settings.get(place)).toEqual(await new SettingsStore().get(place));

    // The default model and the allowed models must agree.
    await platform.command(app, admin, place, 'settings', {
      setting: 'default-model',
      value: 'stable_diffusion',
    });
    expect(lastFor(admin.id).text).toBe('default-model is now: stable_diffusion.');
    await platform.command(app, admin, place, 'settings', { setting: 'models', value: 'Deliberate' });
    expect(lastFor(admin.id).text).toBe(
      'The default model stable_diffusion would not be allowed any more. Include it, or change default-model first.',
    );
    await platform.command(app, admin, place, 'settings', { setting: 'default-model', value: 'none' });
    expect(lastFor(admin.id).text).toBe('default-model is now: none (the horde picks).');

    // Banned words, sfw policy and the rest take effect at once.
    await platform.command(app, admin, place, 'settings', { value: 'ban dragon' });
    expect(lastFor(admin.id).text).toBe('Banned words here now: dragon.');
    await platform.command(app, admin, place, 'settings', { setting: 'ban', value: 'Dragon' });
    expect(lastFor(admin.id).text).toBe('“Dragon” is already banned here.');
    const alice = memoryUser('bad-values-alice', 'Alice');
    await platform.command(app, alice, place, 'draw', { prompt: 'a red dragon' });
    expect(lastFor(alice.id).text).toBe('“dragon” is not allowed in prompts here.');
    await platform.command(app, admin, place, 'settings', { setting: 'max-steps', value: '40' });
    await platform.command(app, alice, place, 'draw', { prompt: 'a cat', steps: 45 });
    expect(lastFor(alice.id).text).toBe('At most 40 steps here.');
    await platform.command(app, admin, place, 'settings', { setting: 'adult', value: 'on' });
    await platform.command(app, admin, place, 'settings', { setting: 'sfw', value: 'Refuse' });
    await platform.command(app, admin, place, 'settings', { setting: 'unban', value: 'DRAGON' });
    expect(lastFor(admin.id).text).toBe('Banned words here now: none.');
    expect(await app.settings.get(place)).toMatchObject({
      adult: true,
      sfwPolicy: 'refuse',
      bannedWords: [],
      maxSteps: 40,
    });
    expect((await app.settings.get(place)).defaultModel).toBeUndefined();
  });

  it('/cancel cancels the person’s waiting /draw here, whose progress message then ends “cancelled”', async () => {
    const bob = memoryUser('cancel-bob', 'Bob');
    const carol = memoryUser('cancel-carol', 'Carol');
    await platform.command(app, bob, place, 'cancel');
    expect(lastFor(bob.id)).toMatchObject({
      visibleTo: bob.id,
      text: 'You have no picture waiting here: nothing to cancel.',
    });

    // A worker in maintenance takes nothing: the request waits.
    await ts.call('PUT', `/workers/${workerId}`, { apikey: owner.apiKey, body: { maintenance: true } });
    try {
      const drawing = platform.command(app, bob, place, 'draw', { prompt: 'a slow cat' });
      await waitUntil(async () => (requests.size > 0 ? true : undefined));
      const progress = await waitUntil(async () =>
        platform.visible(place.channelId).find((message) => message.text.startsWith('Drawing “a slow cat”')),
      );
      // Someone else's /cancel, or Bob's in another place, leaves it alone.
      await platform.command(app, carol, place, 'cancel');
      expect(lastFor(carol.id).text).toBe('You have no picture waiting here: nothing to cancel.');
      const elsewhere = memoryPlace('guild-2');
      await platform.command(app, bob, elsewhere, 'cancel');
      expect(lastFor(bob.id, elsewhere).text).toBe('You have no picture waiting here: nothing to cancel.');

      await platform.command(app, bob, place, 'cancel');
      expect(lastFor(bob.id)).toMatchObject({
        visibleTo: bob.id,
        text: 'Cancelled 1 request: “a slow cat”.',
      });
      await drawing;
      expect(progress.text).toBe('“a slow cat” was cancelled.');
      expect(progress.text).toMatch(/cancelled\.$/);
      expect(requests.size).toBe(0);
    } finally {
      await ts.call('PUT', `/workers/${workerId}`, { apikey: owner.apiKey, body: { maintenance: false } });
    }
  });
});

describe('/worker and /link on the embedded horde', () => {
  let ts: TestServer;
  let app: ChatApp;
  let keyv: Keyv;

  beforeAll(async () => {
    ts = await startTestServer();
  });
  afterAll(async () => {
    await ts?.close();
  });
  beforeEach(() => {
    platform = new MemoryPlatform();
    clock = new FakeClock(Date.now());
    keyv = new Keyv();
    app = createChatApp({
      horde: { client: createEmbeddedClient(ts.horde), mode: 'embedded' },
      plugins: [accountPlugin({ hordeUrl: `${ts.origin}/`, keyv, now: () => clock.now() }), kudosPlugin()],
      now: () => clock.now(),
    });
  });

  const pop = (apiKey: string, name: string) =>
    ts.call('POST', '/generate/pop', {
      apikey: apiKey,
      body: {
        name,
        models: ['stable_diffusion'],
        bridge_agent: REGEN_AGENT,
        nsfw: false,
        max_pixels: 262144,
      },
    });

  it('/worker sends a key privately, once; a worker pops with it; /worker again retires it', async () => {
    const carol = memoryUser('worker-carol', 'Carol Ann');
    await platform.command(app, carol, place, 'worker');
    const sent = lastFor(carol.id);
    expect(sent.visibleTo).toBe(carol.id);
    const line = new RegExp(
      `^HORDE_URL=${ts.origin.replace(/[.]/g, '\\.')} HORDE_API_KEY=(\\S+) WORKER_NAME=(carol-ann-worker-\\d+) npm run worker$`,
      'm',
    );
    const [, key, name] = sent.text.match(line) ?? [];
    expect(key, sent.text).toBeDefined();
    expect(sent.text).toMatch(
      /^Your worker key is in the command below, shown this once: keep it secret\. Any key you had before stops working now/,
    );
    expect(sent.text).toMatch(/earns kudos for your account Carol Ann#\d+\.$/);
    // Nobody else sees it, and it is in that one message only.
    expect(platform.visible(place.channelId, 'someone-else')).toEqual([]);
    expect(
      platform.messages.filter((message) => message.history.some((text) => text.includes(key!))),
    ).toHaveLength(1);

    const popped = await pop(key!, name!);
    expect(popped.status, JSON.stringify(popped.body)).toBe(200);
    const owner = await ts.horde.authenticate({ apiKey: key! });
    expect(owner.username).toBe('Carol Ann');

    await platform.command(app, carol, place, 'worker', { name: 'carols-box' });
    const [, second] = lastFor(carol.id).text.match(/HORDE_API_KEY=(\S+) WORKER_NAME=carols-box /) ?? [];
    expect(second).toBeDefined();
    expect(second).not.toBe(key);
    const old = await pop(key!, name!);
    expect(old.status).toBe(401);
    expect(old.body.rc).toBe('InvalidAPIKey');
    expect((await pop(second!, name!)).status).toBe(200);
    // The key belongs to the person's chat account: /kudos names the same one.
    await platform.command(app, carol, place, 'kudos');
    expect(lastFor(carol.id).text).toMatch(new RegExp(`Your horde account is Carol Ann#${owner.id}\\.`));
  });

  it('/link: a code on one platform, used on another, makes both share one balance', async () => {
    const alice = memoryUser('link-alice', 'Alice');
    const aliceOnDiscord = discordUser('link-alice-discord', 'Alice D');
    await platform.command(app, alice, place, 'link');
    const offer = lastFor(alice.id);
    expect(offer.visibleTo).toBe(alice.id);
    const [, code, alias] =
      offer.text.match(
        /^Your link code: ([A-Z2-9]{6}) \(works once, for 10 minutes; keep it to yourself\)\. On your other platform, send \/link \1 to me: that account then uses this one, (Alice#\d+), and its 0 kudos\.$/,
      ) ?? [];
    expect(code, offer.text).toBeDefined();
    const aliceAccount = await ts.horde.findAccount(alias!);
    await ts.horde.modifyAccount({ accountId: 1 }, aliceAccount!.id, { kudos: 50 });

    await platform.command(app, aliceOnDiscord, discordPlace, 'link', { code: code!.toLowerCase() });
    expect(lastFor(aliceOnDiscord.id, discordPlace)).toMatchObject({
      visibleTo: aliceOnDiscord.id,
      text: `Linked: here you now use ${alias}, the same account as on the in-memory platform, with 50 kudos.`,
    });
    await platform.command(app, alice, place, 'kudos');
    await platform.command(app, aliceOnDiscord, discordPlace, 'kudos');
    const balance = `You have 50 kudos. Your horde account is ${alias}.`;
    expect(lastFor(alice.id).text).toMatch(new RegExp(`^${balance}`));
    expect(lastFor(aliceOnDiscord.id, discordPlace).text).toMatch(new RegExp(`^${balance}`));
    expect((await ts.horde.store.getAccountByIdentity('discord', aliceOnDiscord.id))?.id).toBe(
      aliceAccount!.id,
    );

    // A code works once.
    const mallory = discordUser('link-mallory', 'Mallory');
    await platform.command(app, mallory, discordPlace, 'link', { code: code! });
    expect(lastFor(mallory.id, discordPlace).text).toBe(
      `${code} is not a link code (or it was used already). Send /link on your other platform for a new one.`,
    );
    // Linking again where it is already linked says so.
    await platform.command(app, alice, place, 'link');
    const [, again] = lastFor(alice.id).text.match(/code: (\w{6})/) ?? [];
    await platform.command(app, aliceOnDiscord, discordPlace, 'link', { code: again! });
    expect(lastFor(aliceOnDiscord.id, discordPlace).text).toBe(
      `You are already linked: here you use ${alias}.`,
    );
  });

  it('/link explains wrong, expired, own and too many codes', async () => {
    const dan = memoryUser('codes-dan', 'Dan');
    const danOnDiscord = discordUser('codes-dan-discord', 'Dan D');
    const said = () => lastFor(danOnDiscord.id, discordPlace).text;

    await platform.command(app, danOnDiscord, discordPlace, 'link', { code: 'abc' });
    expect(said()).toBe(
      'A link code has 6 letters and digits, like K7WQ2M. Send /link on your other platform to get one.',
    );
    await platform.command(app, dan, place, 'link');
    const [, code] = lastFor(dan.id).text.match(/code: (\w{6})/) ?? [];
    await platform.command(app, dan, place, 'link', { code: code! });
    expect(lastFor(dan.id).text).toBe(
      `That code is yours from here: send /link ${code} to me on your other platform.`,
    );
    clock.advance(10 * 60_000 + 1);
    await platform.command(app, danOnDiscord, discordPlace, 'link', { code: code! });
    expect(said()).toBe(
      'That code has expired: codes work for 10 minutes. Send /link on your other platform for a new one.',
    );
    // A new code retires the previous one.
    await platform.command(app, dan, place, 'link');
    const [, first] = lastFor(dan.id).text.match(/code: (\w{6})/) ?? [];
    await platform.command(app, dan, place, 'link');
    const [, second] = lastFor(dan.id).text.match(/code: (\w{6})/) ?? [];
    expect(second).not.toBe(first);
    await platform.command(app, danOnDiscord, discordPlace, 'link', { code: first! });
    expect(said()).toMatch(/is not a link code \(or it was used already\)/);

    // Guessing is cut short: five wrong codes in ten minutes (two since the clock moved on: the expired
    // and the retired one), then a wait, even for the right code.
    await platform.command(app, danOnDiscord, discordPlace, 'link', { code: 'ZZZZZZ' });
    await platform.command(app, danOnDiscord, discordPlace, 'link', { code: 'YYYYYY' });
    await platform.command(app, danOnDiscord, discordPlace, 'link', { code: 'XXXXXX' });
    expect(said()).toBe(
      'XXXXXX is not a link code (or it was used already). Send /link on your other platform for a new one.',
    );
    await platform.command(app, danOnDiscord, discordPlace, 'link', { code: second! });
    expect(said()).toBe(
      'Too many wrong codes. Wait 10 minutes, then ask for a new code with /link on your other platform.',
    );
    expect(await ts.horde.store.getAccountByIdentity('discord', danOnDiscord.id)).toBeUndefined();
    clock.advance(10 * 60_000 + 1);
    await platform.command(app, dan, place, 'link');
    const [, fresh] = lastFor(dan.id).text.match(/code: (\w{6})/) ?? [];
    await platform.command(app, danOnDiscord, discordPlace, 'link', { code: fresh! });
    expect(said()).toMatch(/^Linked: here you now use Dan#\d+/);
  });

  it('/link leaves an account with kudos behind only when confirmed', async () => {
    const erin = memoryUser('behind-erin', 'Erin');
    const erinOnDiscord = discordUser('behind-erin-discord', 'Erin D');
    await platform.command(app, erinOnDiscord, discordPlace, 'kudos');
    const [, oldAlias] = lastFor(erinOnDiscord.id, discordPlace).text.match(/account is (.+#\d+)\./) ?? [];
    const old = await ts.horde.findAccount(oldAlias!);
    await ts.horde.modifyAccount({ accountId: 1 }, old!.id, { kudos: 30 });

    await platform.command(app, erin, place, 'link');
    const [, code, alias] = lastFor(erin.id).text.match(/code: (\w{6}) .* this one, (\S+), and/) ?? [];
    await platform.command(app, erinOnDiscord, discordPlace, 'link', { code: code! });
    expect(lastFor(erinOnDiscord.id, discordPlace).text).toBe(
      `Your account here, ${oldAlias}, has 30 kudos. Kudos do not move when you link: this account would stay ` +
        `behind with them, and you would use ${alias} (0 kudos) instead. To keep these kudos, link the other way ` +
        `round: send /link here and use that code on your other platform. To link anyway, send /link ${code} ` +
        'confirm (the code works until it expires).',
    );
    expect((await ts.horde.store.getAccountByIdentity('discord', erinOnDiscord.id))?.id).toBe(old!.id);

    // Text platforms type `confirm` after the code; Discord has a `confirm` option.
    await platform.command(app, erinOnDiscord, discordPlace, 'link', { code: `${code} confirm` });
    expect(lastFor(erinOnDiscord.id, discordPlace).text).toBe(
      `Linked: here you now use ${alias}, the same account as on the in-memory platform, with 0 kudos. ` +
        `Your previous account here, ${oldAlias}, keeps its 30 kudos.`,
    );
    await platform.command(app, erinOnDiscord, discordPlace, 'kudos');
    expect(lastFor(erinOnDiscord.id, discordPlace).text).toMatch(
      new RegExp(`^You have 0 kudos\\. Your horde account is ${alias}\\.`),
    );
    expect((await ts.horde.getAccount(old!.id))?.balance).toBe(3000);
  });

  it('refuses link codes and worker keys in a Telegram group, where others could read them', async () => {
    const group = { ...memoryPlace('tg-group'), platform: 'telegram' as const };
    const frank = { ...memoryUser('tg-frank', 'Frank'), platform: 'telegram' as const };
    await platform.command(app, frank, group, 'link');
    expect(lastFor(frank.id, group).text).toBe(
      'Ask me for a link code in a private chat: whoever uses your code shares your kudos.',
    );
    await platform.command(app, frank, group, 'worker');
    expect(lastFor(frank.id, group).text).toBe(
      'Ask me for a worker key in a private chat: nobody else may read it.',
    );
    await platform.command(app, frank, group, 'link', { code: 'forget' });
    expect(lastFor(frank.id, group).text).toMatch(
      /^On this horde your platforms share one account: there is no key to forget/,
    );
  });
});

describe('/link in remote mode: a person’s own AI Horde key, kept encrypted', () => {
  let ts: TestServer;
  let bot: TestAccount;
  let carol: TestAccount;
  let keyv: Keyv;
  let account: AccountPlugin;
  let app: ChatApp;
  const secret = 'the community horde signing secret';
  const person = memoryUser('remote-carol', 'Carol');
  const dm = memoryPlace('dm-remote-carol', { isPrivate: true });

  beforeAll(async () => {
    ts = await startTestServer();
    bot = await ts.user('bot', 1000);
    carol = await ts.user('carol', 77);
  });
  afterAll(async () => {
    await ts?.close();
  });
  beforeEach(() => {
    platform = new MemoryPlatform();
    keyv = new Keyv();
    account = accountPlugin({ keyv, secret, hordeUrl: ts.origin });
    const client = createRemoteClient({
      url: ts.origin,
      apiKey: bot.apiKey,
      clientAgent: 'hordekit-tests:1:https://example.org',
      listCacheMs: 0,
      keyFor: account.linkedKeyFor,
    });
    app = createChatApp({ horde: { client, mode: 'remote' }, plugins: [account, kudosPlugin()] });
  });

  const neverShown = () =>
    expect(
      platform.messages.filter((message) => message.history.some((text) => text.includes(carol.apiKey))),
    ).toEqual([]);

  it('refuses a key in a public place; in a private one keeps it encrypted, and /kudos shows the person’s own account until /link forget', async () => {
    await platform.command(app, person, place, 'link', { code: carol.apiKey });
    expect(lastFor(person.id)).toMatchObject({
      visibleTo: person.id,
      text: 'Never post your API key in a channel: send /link <key> to me in a private chat. If anyone could read it here, get a new key from the horde.',
    });
    expect(await keyv.get('memory:remote-carol')).toBeUndefined();

    await platform.command(app, person, dm, 'link', { code: carol.apiKey });
    expect(lastFor(person.id, dm).text).toBe(
      `Linked your horde account ${carol.alias} (77 kudos): your pictures and /kudos use it from now on. ` +
        '/link forget unlinks it. You can delete your message with the key now.',
    );
    const raw = await keyv.get('memory:remote-carol');
    expect(typeof raw).toBe('string');
    expect(raw).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(raw).not.toContain(carol.apiKey);
    expect(Buffer.from(String(raw).split('.')[3]!, 'base64url').toString('latin1')).not.toContain(
      carol.apiKey,
    );
    expect(
      await account.linkedKeyFor({ provider: 'memory', externalId: 'remote-carol', username: 'Carol' }),
    ).toBe(carol.apiKey);
    // Sealed for Carol: copied to someone else's entry, or opened with another secret, it yields nothing.
    await keyv.set('memory:remote-mallory', raw);
    expect(
      await account.linkedKeyFor({ provider: 'memory', externalId: 'remote-mallory', username: 'M' }),
    ).toBeUndefined();
    const otherSecret = accountPlugin({ keyv, secret: 'another secret, also long enough' });
    expect(
      await otherSecret.linkedKeyFor({ provider: 'memory', externalId: 'remote-carol', username: 'C' }),
    ).toBeUndefined();

    await platform.command(app, person, place, 'kudos');
    expect(lastFor(person.id).text).toMatch(
      new RegExp(`^You have 77 kudos\\. Your horde account is ${carol.alias}\\.`),
    );
    await platform.command(app, person, place, 'link');
    expect(lastFor(person.id).text).toBe(
      'Your own horde key is linked: your pictures and /kudos use your account. /link forget unlinks it.',
    );

    await platform.command(app, person, place, 'link', { code: 'forget' });
    expect(lastFor(person.id).text).toBe(
      'I forgot your key: you draw with the bot’s shared horde account again.',
    );
    expect(await keyv.get('memory:remote-carol')).toBeUndefined();
    await platform.command(app, person, place, 'kudos');
    expect(lastFor(person.id).text).toMatch(
      new RegExp(`^This bot draws for you with its shared horde account ${bot.alias}, `),
    );
    await platform.command(app, person, place, 'link', { code: 'forget' });
    expect(lastFor(person.id).text).toBe(
      'No key of yours was linked: you draw with the bot’s shared horde account.',
    );
    neverShown();
  });

  it('explains unknown, anonymous and the bot’s own keys, /link without a key, and /worker', async () => {
    const said = () => lastFor(person.id, dm).text;
    await platform.command(app, person, dm, 'link', { code: 'not-a-key-anybody-has' });
    expect(said()).toBe(
      `The horde does not know that key. Check it (your key is at ${ts.origin}/register) and send it again.`,
    );
    await platform.command(app, person, dm, 'link', { code: '0000000000' });
    expect(said()).toBe(`That is the anonymous key, nobody’s own. Your key is at ${ts.origin}/register.`);
    await platform.command(app, person, dm, 'link', { code: bot.apiKey });
    expect(said()).toBe('That is the bot’s own key. Link the key of your own horde account.');
    expect(await keyv.get('memory:remote-carol')).toBeUndefined();
    await platform.command(app, person, dm, 'link');
    expect(said()).toBe(
      'You draw with the bot’s shared horde account. To use your own account and kudos, send me /link <your AI Horde API key> ' +
        `in a private chat (get a key at ${ts.origin}/register).`,
    );
    await platform.command(app, person, dm, 'worker');
    expect(said()).toBe(
      `The horde refused: This horde hands out worker keys itself: get yours from its registration page, ${ts.origin}/register, and run your worker with that key.`,
    );
    // Without a secret the bot keeps no keys.
    const keyless = createChatApp({
      horde: { client: createRemoteClient({ url: ts.origin, apiKey: bot.apiKey }), mode: 'remote' },
      plugins: [accountPlugin()],
    });
    await platform.command(keyless, person, dm, 'link', { code: carol.apiKey });
    expect(said()).toBe('This bot cannot keep horde keys (its operator has not set that up).');
    expect(() => accountPlugin({ secret: 'short' })).toThrow(/at least 16 characters/);
    neverShown();
  });
});
