/**
 * The Slack adapter end to end: the real @slack/bolt (HTTP receiver with signed requests, and Socket Mode)
 * against the fake Slack, backed by a real community horde (embedded client) and our worker node on the
 * demo backend. The scenarios of `framework.test.ts`, as a Slack user sees them: the ack, the progress
 * message and its updates, the shared image with exactly the worker's bytes, the buttons, kudos, and every
 * refusal in words.
 */

import type { ChatApp } from '@hordekit/adapters';
import { createSlackAdapter, NOT_HERE_TEXT, type SlackAdapter, slackWhere } from '@hordekit/adapters/slack';
import { type FakeSlack, type FakeSlackMessage, startFakeSlack } from '@hordekit/adapters/testing';
import type { FakeClock } from '@hordekit/core/testing';
import { App, LogLevel } from '@slack/bolt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ChatHarness, startChatHorde } from '../support/chat-harness.js';
import { expectConsistentLedger } from '../support/ledger-check.js';
import type { TestServer } from '../support/server.js';

const CHANNEL = 'C0GENERAL';
const ALICE = 'U0ALICE';
const BOB = 'U0BOB';
const ADA = 'U0ADA';

let harness: ChatHarness;
let ts: TestServer;
let chat: ChatApp;
let fake: FakeSlack;
let adapter: SlackAdapter;
let url: string;
let clock: FakeClock;
/** Every invocation that reached the framework, as `/command` or `plugin:action`. */
let dispatched: string[];
const place = slackWhere('T0TEAM', CHANNEL);

beforeEach(async () => {
  dispatched = [];
  harness = await startChatHorde({
    middleware: [
      async (context, next) => {
        dispatched.push(context.kind === 'command' ? `/${context.command}` : context.press.action);
        await next();
      },
    ],
  });
  ({ ts, app: chat, clock } = harness);
  fake = await startFakeSlack({
    users: {
      [ALICE]: { name: 'alice' },
      [BOB]: { name: 'bob' },
      [ADA]: { name: 'ada', is_admin: true },
    },
  });
  adapter = createSlackAdapter({
    chat,
    token: fake.botToken,
    signingSecret: fake.signingSecret,
    apiUrl: fake.apiUrl,
    clientOptions: { retryConfig: { retries: 0 } },
    logLevel: LogLevel.ERROR,
    // Short, so that a demo job (a fraction of a second) still shows its progress edits.
    editIntervalMs: 50,
  });
  const { port } = await adapter.start({ port: 0, host: '127.0.0.1' });
  url = `http://127.0.0.1:${port}`;
  await harness.waitForWorker();
});

afterEach(async () => {
  await adapter.stop();
  await fake.close();
  await harness.close();
});

/** Sends a signed slash command as `user` and waits until the adapter has answered it completely. */
async function slash(user: string, text: string, command = '/draw') {
  const answer = await fake.slashCommand(url, { command, text, user_id: user, channel_id: CHANNEL });
  await adapter.idle();
  return answer;
}

/** What a Slack client shows as the message's text: its section blocks when it has them. */
function shown(message: FakeSlackMessage): string {
  const sections = (message.blocks ?? []).flatMap((block) => {
    const { type, text } = block as { type: string; text?: { text: string } };
    return type === 'section' && text ? [text.text] : [];
  });
  return sections.length > 0 ? sections.join('') : message.text;
}

interface ShownButton {
  label: string;
  action_id: string;
  value: string;
  block_id: string;
  style?: string;
}

function buttonsOf(message: FakeSlackMessage): ShownButton[] {
  return (message.blocks ?? []).flatMap((block) => {
    const { type, block_id, elements } = block as {
      type: string;
      block_id: string;
      elements?: { action_id: string; value: string; style?: string; text: { text: string } }[];
    };
    if (type !== 'actions') return [];
    return (elements ?? []).map((element) => ({
      label: element.text.text,
      action_id: element.action_id,
      value: element.value,
      block_id,
      ...(element.style ? { style: element.style } : {}),
    }));
  });
}

/** Clicks the button labelled `label` on `message` as `user`, and waits for the answer. */
async function press(user: string, message: FakeSlackMessage, label: string) {
  const button = buttonsOf(message).find((candidate) => candidate.label === label);
  if (!button) throw new Error(`no button "${label}" on ${message.ts}`);
  const answer = await fake.blockAction(url, {
    user,
    channel: CHANNEL,
    message_ts: message.ts,
    action_id: button.action_id,
    value: button.value,
    block_id: button.block_id,
  });
  await adapter.idle();
  return answer;
}

/** What `user` sees in the channel now. */
const visibleTo = (user: string) =>
  fake.channel(CHANNEL).filter((message) => !message.ephemeral || message.ephemeralTo === user);
const lastFor = (user: string) => visibleTo(user).at(-1)!;
const publicMessages = () => fake.channel(CHANNEL).filter((message) => !message.ephemeral);

describe('/draw on Slack over HTTP', () => {
  it('acks at once, updates one progress message, then shares the worker’s bytes with redo, details and delete', async ({
    annotate,
  }) => {
    const answer = await slash(ALICE, 'a lighthouse at dusk --seed 77');
    expect(answer.status).toBe(200);
    expect(answer.body).toBe('');
    expect(answer.ackMs).toBeLessThan(3000);
    await annotate(`slash command ack: ${answer.ackMs.toFixed(1)} ms`);

    // The progress message: posted with a Cancel button, updated, then replaced by the shared image.
    const [progress] = fake.log.of('chat.postMessage');
    expect(progress?.body.text).toMatch(/^Drawing “a lighthouse at dusk”: (queued|in the queue)/);
    const progressCall = fake.log.calls.indexOf(progress!);
    const updates = fake.log.of('chat.update');
    expect(updates.length).toBeGreaterThan(0);
    expect(String(updates[0]?.body.text)).toMatch(/^Drawing “a lighthouse at dusk”: /);
    const deleted = fake.log.of('chat.delete');
    expect(deleted).toHaveLength(1);
    expect(fake.log.calls.indexOf(deleted[0]!)).toBeGreaterThan(progressCall);

    const [result] = publicMessages();
    expect(publicMessages()).toHaveLength(1);
    expect(result!.via).toBe('files.completeUploadExternal');
    expect(shown(result!)).toMatch(
      /^“a lighthouse at dusk” — seed 77 · stable_diffusion · drawn by demo-gpu · [\d.]+ kudos\.$/,
    );
    const buttons = buttonsOf(result!);
    expect(buttons.map((button) => [button.label, button.action_id, button.style])).toEqual([
      ['Redo (new seed)', 'draw:redo', 'primary'],
      ['Details', 'draw:details', undefined],
      ['Delete', 'draw:delete', 'danger'],
    ]);
    // Exactly the bytes the worker uploaded to the horde's image store.
    const requestId = buttons[0]!.value;
    const uploaded = await harness.uploadedBytes(requestId);
    expect(result!.files).toHaveLength(1);
    expect(result!.files![0]!.bytes!.equals(Buffer.from(uploaded!))).toBe(true);
    expect(result!.files![0]!.name).toMatch(/\.webp$/);

    // Redo: a new request with a new seed, as a new message.
    clock.advance(60_000);
    const redoAnswer = await press(ALICE, result!, 'Redo (new seed)');
    expect(redoAnswer.status).toBe(200);
    const redo = publicMessages().at(-1)!;
    expect(redo.ts).not.toBe(result!.ts);
    expect(shown(redo)).toMatch(/^“a lighthouse at dusk” — seed \d+/);
    expect(shown(redo)).not.toMatch(/seed 77 /);
    expect(buttonsOf(redo)[0]!.value).not.toBe(requestId);

    // Details: only for the one who asked.
    await press(BOB, result!, 'Details');
    expect(lastFor(BOB)).toMatchObject({ ephemeral: true, ephemeralTo: BOB, via: 'chat.postEphemeral' });
    expect(lastFor(BOB).text).toMatch(/seed 77, stable_diffusion, worker demo-gpu/);

    // Delete: refused for someone else (in words, to them alone), done for the requester.
    await press(BOB, result!, 'Delete');
    expect(lastFor(BOB)).toMatchObject({
      ephemeralTo: BOB,
      text: 'Only the person who asked for it, or an admin, can delete it.',
    });
    expect(publicMessages().some((message) => message.ts === result!.ts)).toBe(true);
    await press(ALICE, result!, 'Delete');
    expect(publicMessages().some((message) => message.ts === result!.ts)).toBe(false);
    expect(publicMessages().map((message) => message.ts)).toEqual([redo.ts]);
    expect(dispatched).toEqual(['/draw', 'draw:redo', 'draw:details', 'draw:delete', 'draw:delete']);
    await expectConsistentLedger(ts.horde.store);
  });

  it('lets a workspace admin (users.info is_admin) delete anyone’s picture', async () => {
    await slash(ALICE, 'a small boat');
    const result = publicMessages().at(-1)!;
    await press(ADA, result, 'Delete');
    expect(publicMessages()).toHaveLength(0);
    expect(fake.log.of('users.info').map((call) => call.body.user)).toEqual([ALICE, ADA]);
  });

  it('answers a second /draw within the cooldown in words, and lets it through after', async () => {
    await slash(ALICE, 'a cat');
    await slash(ALICE, 'a dog');
    expect(lastFor(ALICE)).toMatchObject({
      ephemeralTo: ALICE,
      text: 'Slow down a little: you can draw again in 10 s.',
    });
    clock.advance(10_000);
    await slash(ALICE, 'a dog');
    expect(shown(publicMessages().at(-1)!)).toMatch(/^“a dog” — seed/);
  });

  it('keeps adult content out unless the workspace allows it: censored, refused under refuse, drawn when adult', async () => {
    await slash(ALICE, 'a nude statue');
    expect(shown(publicMessages().at(-1)!)).toMatch(/^“a nude statue” — seed/);
    await chat.settings.update(place, { sfwPolicy: 'refuse' });
    clock.advance(60_000);
    await slash(ALICE, 'a nude statue');
    expect(lastFor(ALICE)).toMatchObject({
      ephemeralTo: ALICE,
      text: expect.stringMatching(/^Adult content is not allowed here/),
    });
    await chat.settings.update(place, { adult: true });
    clock.advance(60_000);
    await slash(ALICE, 'a nude statue');
    expect(shown(lastFor(ALICE))).toMatch(/^“a nude statue” — seed/);
  });

  it('says which models are served when the asked one is not, and what an upfront-kudos request needs', async () => {
    await slash(ALICE, 'a cat --model Deliberate');
    expect(lastFor(ALICE)).toMatchObject({
      ephemeralTo: ALICE,
      text: 'No worker serves Deliberate right now. Served now: stable_diffusion.',
    });
    clock.advance(60_000);
    await slash(BOB, 'a huge cat --size 1216x832 --steps 150 --count 4');
    expect(lastFor(BOB).text).toBe('At most 50 steps here.');
    await chat.settings.update(place, { maxSteps: 150 });
    await slash(BOB, 'a huge cat --size 1216x832 --steps 150 --count 4');
    expect(lastFor(BOB)).toMatchObject({
      ephemeralTo: BOB,
      text: expect.stringMatching(
        /^That request is too big to run on credit\. It needs \d+ kudos upfront, and you have \d+\. Make it smaller/,
      ),
    });
  });

  it('/kudos shows the spend; /transfer <@U…> moves kudos; an unresolved @name is explained', async () => {
    await slash(ALICE, '', '/kudos');
    const alias = lastFor(ALICE).text.match(/account is (\S+)\./)![1]!;
    const aliceAccount = await ts.horde.findAccount(alias);
    await ts.horde.modifyAccount({ accountId: 1 }, aliceAccount!.id, { kudos: 100 });
    await slash(ALICE, 'a cat');
    await slash(ALICE, '', '/kudos');
    expect(lastFor(ALICE)).toMatchObject({ ephemeralTo: ALICE, via: 'chat.postEphemeral' });
    const balance = Number(lastFor(ALICE).text.match(/You have (\d+) kudos/)![1]);
    expect(balance).toBeLessThan(100);
    expect(lastFor(ALICE).text).toMatch(/request fee|pictures or text drawn for you/);

    // Slack hands a picked mention over as `<@U0BOB|bob>`.
    await slash(ALICE, `<@${BOB}|bob> 20`, '/transfer');
    expect(publicMessages().at(-1)!.text).toMatch(/^alice sent 20 kudos to /);
    await slash(BOB, '', '/kudos');
    expect(lastFor(BOB).text).toMatch(/^You have 20 kudos/);
    await slash(ALICE, '@bob 5', '/transfer');
    expect(lastFor(ALICE).text).toMatch(/^Name the person for `to` with an @-mention/);
    await slash(ALICE, `<@${BOB}> 100000`, '/transfer');
    expect(lastFor(ALICE)).toMatchObject({ ephemeralTo: ALICE });
    expect(lastFor(ALICE).text).toMatch(/^The horde refused the request: /);
    await expectConsistentLedger(ts.horde.store);
  });

  it('waits out a rate limit (Retry-After) and tries once more', async () => {
    fake.rateLimitNext('chat.postEphemeral', 1);
    const started = Date.now();
    await slash(ALICE, '', '/kudos');
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(
      fake.log.calls.map((call) => call.method).filter((method) => method.includes('Ephemeral')),
    ).toEqual(['429 chat.postEphemeral', 'chat.postEphemeral']);
    expect(lastFor(ALICE).text).toMatch(/^You have \d+ kudos/);
  });

  it('says through the response_url, once, when it may not post in the channel', async () => {
    fake.failNext('chat.postEphemeral', 'not_in_channel');
    fake.failNext('chat.postEphemeral', 'not_in_channel');
    const answer = await slash(ALICE, '', '/kudos');
    expect(fake.responses(answer.responseToken)).toEqual([
      { response_type: 'ephemeral', text: NOT_HERE_TEXT },
    ]);
    expect(fake.channel(CHANNEL)).toMatchObject([
      { ephemeralTo: ALICE, text: NOT_HERE_TEXT, via: 'response_url' },
    ]);
  });

  it('rejects a badly signed, a stale and an unsigned request with 401; nothing reaches the framework', async () => {
    const before = fake.log.calls.length;
    const answers = await Promise.all(
      (['invalid', 'stale', 'missing'] as const).map((signature) =>
        fake.slashCommand(url, { command: '/draw', text: 'a cat', user_id: ALICE }, { signature }),
      ),
    );
    const click = await fake.blockAction(
      url,
      {
        user: ALICE,
        channel: CHANNEL,
        message_ts: '1.000001',
        action_id: 'draw:delete',
        block_id: 'hordekit:0',
      },
      { signature: 'invalid' },
    );
    await adapter.idle();
    expect([...answers, click].map((answer) => answer.status)).toEqual([401, 401, 401, 401]);
    expect(dispatched).toEqual([]);
    expect(fake.log.calls.slice(before)).toEqual([]);
    expect(fake.channel(CHANNEL)).toEqual([]);
  });
});

describe('the Slack adapter in other setups', () => {
  it('Socket Mode: /draw acked over the socket and answered with the image', async ({ annotate }) => {
    const socket = createSlackAdapter({
      chat,
      token: fake.botToken,
      appToken: fake.appToken,
      apiUrl: fake.apiUrl,
      clientOptions: { retryConfig: { retries: 0 } },
      logLevel: LogLevel.ERROR,
    });
    await socket.start();
    try {
      await fake.socketConnected();
      const ack = await fake.socketSlashCommand({
        command: '/draw',
        text: 'a fox in the snow',
        user_id: ALICE,
      });
      expect(ack.ackMs).toBeLessThan(3000);
      await annotate(`socket mode ack: ${ack.ackMs.toFixed(1)} ms`);
      await socket.idle();
      const result = publicMessages().at(-1)!;
      expect(shown(result)).toMatch(/^“a fox in the snow” — seed \d+ · stable_diffusion · drawn by demo-gpu/);
      expect(result.files?.[0]?.bytes?.length).toBeGreaterThan(0);
      expect(dispatched).toEqual(['/draw']);
    } finally {
      await socket.stop();
    }
  });

  it('registers on an existing Bolt app next to its own listeners', async () => {
    const bolt = new App({
      token: fake.botToken,
      signingSecret: fake.signingSecret,
      logLevel: LogLevel.ERROR,
      clientOptions: { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 } },
    });
    bolt.command('/ping', async ({ ack }) => {
      await ack('pong');
    });
    const embedded = createSlackAdapter({ chat, bolt });
    expect(embedded.app).toBe(bolt);
    const { port } = await embedded.start({ port: 0, host: '127.0.0.1' });
    try {
      const own = `http://127.0.0.1:${port}`;
      const ping = await fake.slashCommand(own, { command: '/ping', user_id: ALICE });
      expect(ping.body).toBe('pong');
      await fake.slashCommand(own, { command: '/kudos', user_id: BOB });
      await embedded.idle();
      expect(lastFor(BOB)).toMatchObject({
        ephemeralTo: BOB,
        text: expect.stringMatching(/^You have 0 kudos/),
      });
    } finally {
      await embedded.stop();
    }
  });
});
