/**
 * What only Slack has, end to end: the real @slack/bolt (HTTP receiver with signed requests, and Socket
 * Mode) against the fake Slack, backed by a real community horde (embedded client) and our worker node on
 * the demo backend — admins from users.info, mentions, rate limits, channels the bot is not in, request
 * signatures, Socket Mode and the adapter inside an existing Bolt app. The `/draw` walk, kudos and
 * refusals are the adapter conformance suite's (`conformance.test.ts`).
 */

import type { ChatApp } from '@hordekit/adapters';
import { createSlackAdapter, NOT_HERE_TEXT, type SlackAdapter } from '@hordekit/adapters/slack';
import { type FakeSlack, type FakeSlackMessage, startFakeSlack } from '@hordekit/adapters/testing';
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
/** Every invocation that reached the framework, as `/command` or `plugin:action`. */
let dispatched: string[];

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
  ({ ts, app: chat } = harness);
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

describe('the Slack adapter over HTTP', () => {
  it('lets a workspace admin (users.info is_admin) delete anyone’s picture', async () => {
    await slash(ALICE, 'a small boat');
    const result = publicMessages().at(-1)!;
    await press(ADA, result, 'Delete');
    expect(publicMessages()).toHaveLength(0);
    expect(fake.log.of('users.info').map((call) => call.body.user)).toEqual([ALICE, ADA]);
  });

  it('/transfer reads a mention with or without its name; an unresolved @name is explained', async () => {
    await slash(ALICE, '', '/kudos');
    const alias = lastFor(ALICE).text.match(/account is (\S+)\./)![1]!;
    const aliceAccount = await ts.horde.findAccount(alias);
    await ts.horde.modifyAccount({ accountId: 1 }, aliceAccount!.id, { kudos: 100 });
    // Slack hands a picked mention over as `<@U0BOB|bob>`, a typed one as `@bob` (not resolved).
    await slash(ALICE, `<@${BOB}|bob> 20`, '/transfer');
    expect(publicMessages().at(-1)!.text).toMatch(/^alice sent 20 kudos to /);
    await slash(ALICE, '@bob 5', '/transfer');
    expect(lastFor(ALICE).text).toMatch(/^Name the person for `to` with an @-mention/);
    await slash(ALICE, `<@${BOB}> 100000`, '/transfer');
    expect(lastFor(ALICE)).toMatchObject({ ephemeralTo: ALICE });
    expect(lastFor(ALICE).text).toMatch(/^The horde refused the request: /);
    await slash(BOB, '', '/kudos');
    expect(lastFor(BOB).text).toMatch(/^You have 20 kudos/);
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
