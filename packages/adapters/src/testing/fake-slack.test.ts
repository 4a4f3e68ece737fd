/**
 * The fake Slack against the real SDKs: a Bolt App on its HTTPReceiver (signed requests in, Web API calls
 * and response_url posts out), @slack/web-api's upload flow and rate-limit handling, and a Bolt App in
 * Socket Mode connected to the fake's WebSocket.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, type Logger, LogLevel, webApi } from '@slack/bolt';
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeSlack, startFakeSlack } from './fake-slack.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function fakeSlack(options: Parameters<typeof startFakeSlack>[0] = {}): Promise<FakeSlack> {
  const fake = await startFakeSlack(options);
  cleanups.push(() => fake.close());
  return fake;
}

function clientOptions(fake: FakeSlack) {
  return { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 } };
}

/** A Bolt App on its default HTTPReceiver; register listeners before requests arrive. */
async function httpApp(fake: FakeSlack): Promise<{ app: App; url: string }> {
  const app = new App({
    token: fake.botToken,
    signingSecret: fake.signingSecret,
    logLevel: LogLevel.ERROR,
    clientOptions: clientOptions(fake),
  });
  const server = (await app.start({ port: 0, host: '127.0.0.1' })) as Server;
  cleanups.push(() => app.stop());
  return { app, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** Keeps the errors an app logs for the test to assert on, instead of printing them. */
function recordingLogger(): Logger & { errors: string[] } {
  const errors: string[] = [];
  let level = LogLevel.ERROR;
  return {
    errors,
    debug: () => {},
    info: () => {},
    warn: () => {},
    error: (...message: unknown[]) => errors.push(message.map(String).join(' ')),
    setLevel: (next) => {
      level = next;
    },
    getLevel: () => level,
    setName: () => {},
  };
}

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const BUTTON_BLOCKS = [
  { type: 'section', text: { type: 'mrkdwn', text: 'a cat in a hat' } },
  {
    type: 'actions',
    block_id: 'actions',
    elements: [
      { type: 'button', action_id: 'retry', value: 'job-1', text: { type: 'plain_text', text: 'Retry' } },
    ],
  },
];

describe('fake Slack with Bolt over HTTP', () => {
  it('answers the auth.test Bolt makes at construction', async () => {
    const fake = await fakeSlack({ botUserId: 'U0HORDE', teamId: 'T0HORDE' });
    const { app } = await httpApp(fake);
    const call = await fake.log.next('auth.test', { after: 0 });
    expect(call.body).toEqual({ token: fake.botToken });
    const auth = await app.client.auth.test();
    expect(auth).toMatchObject({ ok: true, user_id: 'U0HORDE', team_id: 'T0HORDE', bot_id: 'B0BOT' });
  });

  it('delivers a signed slash command; ack comes back as the HTTP body, respond and chat.* land on the fake', async () => {
    const fake = await fakeSlack();
    const { app, url } = await httpApp(fake);
    const done = deferred<{ ts: string }>();
    app.command('/draw', async ({ ack, command, respond, client }) => {
      await ack(`Queued: ${command.text}`);
      try {
        await respond({ text: 'working on it' });
        const posted = await client.chat.postMessage({
          channel: command.channel_id,
          text: 'a cat',
          blocks: BUTTON_BLOCKS,
        });
        await client.chat.update({ channel: command.channel_id, ts: posted.ts!, text: 'a cat, done' });
        done.resolve({ ts: posted.ts! });
      } catch (error) {
        done.reject(error);
      }
    });

    const answer = await fake.slashCommand(url, {
      command: '/draw',
      text: 'a cat in a hat',
      user_id: 'U0ALICE',
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toBe('Queued: a cat in a hat');
    expect(answer.ackMs).toBeGreaterThan(0);
    expect(answer.ackMs).toBeLessThan(3000);
    const { ts } = await done.promise;

    expect(fake.responses(answer.responseToken)).toEqual([{ text: 'working on it' }]);
    const postCall = fake.log.of('chat.postMessage')[0]!;
    expect(postCall.body.blocks).toEqual(BUTTON_BLOCKS);
    const [ephemeral, posted] = fake.channel('C0GENERAL');
    expect(ephemeral).toMatchObject({
      text: 'working on it',
      ephemeral: true,
      ephemeralTo: 'U0ALICE',
      via: 'response_url',
    });
    expect(posted).toMatchObject({
      ts,
      text: 'a cat, done',
      blocks: BUTTON_BLOCKS,
      user: 'U0BOT',
      via: 'chat.postMessage',
    });
    expect(posted?.edited).toBeDefined();
  });

  it('rejects a badly signed and a stale request with 401 before any listener', async () => {
    const fake = await fakeSlack();
    const { app, url } = await httpApp(fake);
    let handled = 0;
    app.command('/draw', async ({ ack }) => {
      handled += 1;
      await ack();
    });
    const badlySigned = await fake.slashCommand(
      url,
      { command: '/draw', text: 'x' },
      { signature: 'invalid' },
    );
    const stale = await fake.slashCommand(url, { command: '/draw', text: 'x' }, { signature: 'stale' });
    const unsigned = await fake.slashCommand(url, { command: '/draw', text: 'x' }, { signature: 'missing' });
    expect([badlySigned.status, stale.status, unsigned.status]).toEqual([401, 401, 401]);
    const signed = await fake.slashCommand(url, { command: '/draw', text: 'x' });
    expect(signed.status).toBe(200);
    expect(handled).toBe(1);
  });

  it('delivers a block action for a posted message; respond(replace_original) replaces it', async () => {
    const fake = await fakeSlack();
    const { app, url } = await httpApp(fake);
    const clicked = deferred<{ value: string | undefined; user: string; messageTs: string | undefined }>();
    app.action('retry', async ({ ack, body, action, respond }) => {
      await ack();
      await respond({ replace_original: true, text: 'retrying' });
      clicked.resolve({
        value: action.type === 'button' ? action.value : undefined,
        user: body.user.id,
        messageTs: body.type === 'block_actions' ? body.message?.ts : undefined,
      });
    });
    const posted = await app.client.chat.postMessage({
      channel: 'C0GENERAL',
      text: 'a cat',
      blocks: BUTTON_BLOCKS,
    });

    const answer = await fake.blockAction(url, {
      user: 'U0ALICE',
      channel: 'C0GENERAL',
      message_ts: posted.ts!,
      action_id: 'retry',
      value: 'job-1',
    });
    expect(answer.status).toBe(200);
    expect(await clicked.promise).toEqual({ value: 'job-1', user: 'U0ALICE', messageTs: posted.ts });
    expect(fake.responses(answer.responseToken)).toEqual([{ replace_original: true, text: 'retrying' }]);
    expect(fake.channel('C0GENERAL')).toEqual([
      expect.objectContaining({
        ts: posted.ts,
        text: 'retrying',
        blocks: undefined,
        edited: expect.anything(),
      }),
    ]);
  });

  it('delivers an event_callback to app.event; say() posts to the channel', async () => {
    const fake = await fakeSlack();
    const { app, url } = await httpApp(fake);
    const said = deferred();
    app.event('app_mention', async ({ event, say }) => {
      await say({ text: `pong to ${event.user}`, thread_ts: event.ts });
      said.resolve();
    });
    const mention = await app.client.chat.postMessage({ channel: 'C0GENERAL', text: 'thread root' });
    const answer = await fake.event(url, {
      type: 'app_mention',
      user: 'U0ALICE',
      text: '<@U0BOT> ping',
      channel: 'C0GENERAL',
      ts: mention.ts,
    });
    expect(answer.status).toBe(200);
    await said.promise;
    expect(fake.channel('C0GENERAL').at(-1)).toMatchObject({
      text: 'pong to U0ALICE',
      thread_ts: mention.ts,
    });
  });
});

describe('fake Slack Web API with @slack/web-api', () => {
  it('uploads with filesUploadV2: URL, bytes, completion, shared as a message with exactly those bytes', async () => {
    const fake = await fakeSlack();
    const { app } = await httpApp(fake);
    const bytes = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff, 0x10]);

    const result = await app.client.filesUploadV2({
      channel_id: 'C0GENERAL',
      file: bytes,
      filename: 'cat.png',
      initial_comment: 'here is your cat',
    });
    expect(result.ok).toBe(true);

    const [getUrl] = fake.log.of('files.getUploadURLExternal');
    expect(getUrl?.body).toEqual({ filename: 'cat.png', length: String(bytes.length) });
    const [upload] = fake.log.of('POST /upload/:file_id');
    expect(upload?.body).toMatchObject({ field: 'body', file: { filename: 'Untitled', bytes } });
    expect(String(upload?.body.contentType)).toMatch(/^multipart\/form-data; boundary=/);
    const [complete] = fake.log.of('files.completeUploadExternal');
    const fileId = String(upload?.body.file_id);
    expect(complete?.body).toEqual({
      files: [{ id: fileId, title: 'cat.png' }],
      channel_id: 'C0GENERAL',
      initial_comment: 'here is your cat',
    });

    const [message] = fake.channel('C0GENERAL');
    expect(message).toMatchObject({ text: 'here is your cat', via: 'files.completeUploadExternal' });
    expect(message?.files?.map((file) => [file.id, file.name, file.mimetype])).toEqual([
      [fileId, 'cat.png', 'image/png'],
    ]);
    expect(message?.files?.[0]?.bytes?.equals(bytes)).toBe(true);
    const info = await app.client.files.info({ file: fileId });
    expect(info.file).toMatchObject({
      id: fileId,
      channels: ['C0GENERAL'],
      size: bytes.length,
      // The only place Slack tells which message the share made.
      shares: { public: { C0GENERAL: [{ ts: message!.ts, channel_name: 'general' }] } },
    });
    const download = await fetch(message!.files![0]!.url_private, {
      headers: { authorization: `Bearer ${fake.botToken}` },
    });
    expect(Buffer.from(await download.arrayBuffer()).equals(bytes)).toBe(true);
  });

  it('surfaces rateLimitNext as a rejected call with retries: 0, then answers again', async () => {
    const fake = await fakeSlack();
    const { app } = await httpApp(fake);
    const limited: number[] = [];
    app.client.on(webApi.WebClientEvent.RATE_LIMITED, (retryAfter: number) => limited.push(retryAfter));

    fake.rateLimitNext('chat.postMessage', 0);
    await expect(app.client.chat.postMessage({ channel: 'C0GENERAL', text: 'hi' })).rejects.toMatchObject({
      code: 'slack_webapi_request_error',
      original: { message: expect.stringContaining('A rate limit was exceeded') },
    });
    expect(limited).toEqual([0]);
    expect(fake.log.of('429 chat.postMessage')).toHaveLength(1);
    await expect(app.client.chat.postMessage({ channel: 'C0GENERAL', text: 'hi' })).resolves.toMatchObject({
      ok: true,
    });
  });

  it('rejects rate-limited calls at once with rejectRateLimitedCalls, carrying Retry-After', async () => {
    const fake = await fakeSlack();
    const app = new App({
      token: fake.botToken,
      signingSecret: fake.signingSecret,
      logLevel: LogLevel.ERROR,
      clientOptions: { ...clientOptions(fake), rejectRateLimitedCalls: true },
    });
    fake.rateLimitNext('chat.update', 30);
    await expect(
      app.client.chat.update({ channel: 'C0GENERAL', ts: '1.000001', text: 'x' }),
    ).rejects.toMatchObject({
      code: 'slack_webapi_rate_limited_error',
      retryAfter: 30,
    });
  });

  it("answers Slack's errors: unknown channel, bad token, app-only methods, missing message, failNext", async () => {
    const fake = await fakeSlack();
    const { app } = await httpApp(fake);
    const platformError = (error: string) => ({
      code: 'slack_webapi_platform_error',
      data: { ok: false, error },
    });
    await expect(app.client.chat.postMessage({ channel: 'C0NOPE', text: 'x' })).rejects.toMatchObject(
      platformError('channel_not_found'),
    );
    await expect(app.client.auth.test({ token: 'xoxb-wrong' })).rejects.toMatchObject(
      platformError('invalid_auth'),
    );
    await expect(app.client.apps.connections.open()).rejects.toMatchObject(
      platformError('not_allowed_token_type'),
    );
    await expect(app.client.chat.delete({ channel: 'C0GENERAL', ts: '1.000001' })).rejects.toMatchObject(
      platformError('message_not_found'),
    );
    await expect(app.client.chat.postMessage({ channel: 'C0GENERAL' } as never)).rejects.toMatchObject(
      platformError('no_text'),
    );
    fake.failNext('chat.postMessage', 'not_in_channel');
    await expect(app.client.chat.postMessage({ channel: 'C0GENERAL', text: 'x' })).rejects.toMatchObject(
      platformError('not_in_channel'),
    );
  });

  it('returns configured channels and users; ephemeral posts, deletes and permalinks change channel state', async () => {
    const fake = await fakeSlack({
      channels: { C0ART: { name: 'art', is_private: true, nsfw_allowed: true } },
      users: { U0BOSS: { name: 'boss', is_admin: true, is_owner: true }, U0BOB: { name: 'bob' } },
    });
    const { app } = await httpApp(fake);
    const channel = await app.client.conversations.info({ channel: 'C0ART' });
    expect(channel.channel).toMatchObject({ id: 'C0ART', name: 'art', is_private: true, nsfw_allowed: true });
    const boss = await app.client.users.info({ user: 'U0BOSS' });
    expect(boss.user).toMatchObject({
      id: 'U0BOSS',
      name: 'boss',
      is_admin: true,
      is_owner: true,
      is_bot: false,
    });
    const bob = await app.client.users.info({ user: 'U0BOB' });
    expect(bob.user).toMatchObject({ is_admin: false, is_owner: false });

    const whisper = await app.client.chat.postEphemeral({
      channel: 'C0ART',
      user: 'U0BOB',
      text: 'only you',
    });
    const loud = await app.client.chat.postMessage({ channel: 'C0ART', text: 'everyone' });
    const link = await app.client.chat.getPermalink({ channel: 'C0ART', message_ts: loud.ts! });
    expect(link.permalink).toBe(`${fake.url}/archives/C0ART/p${loud.ts!.replace('.', '')}`);
    expect(fake.channel('C0ART').map((m) => [m.ts, m.text, m.ephemeralTo])).toEqual([
      [whisper.message_ts, 'only you', 'U0BOB'],
      [loud.ts, 'everyone', undefined],
    ]);
    await app.client.chat.delete({ channel: 'C0ART', ts: loud.ts! });
    expect(fake.channel('C0ART').map((m) => m.text)).toEqual(['only you']);

    const dm = await app.client.chat.postMessage({ channel: 'U0BOB', text: 'your image' });
    expect(dm.channel).toMatch(/^D/);
    expect(fake.channel(dm.channel!).map((m) => m.text)).toEqual(['your image']);
  });
});

describe('fake Slack Web API over plain HTTP', () => {
  it('takes JSON bodies with the token in Authorization, as Slack does for JSON', async () => {
    const fake = await fakeSlack();
    const post = (token: string) =>
      fetch(`${fake.apiUrl}chat.postMessage`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json; charset=utf-8' },
        body: JSON.stringify({ channel: 'C0GENERAL', text: 'json', blocks: BUTTON_BLOCKS }),
      }).then((response) => response.json());
    expect(await post('xoxb-wrong')).toEqual({ ok: false, error: 'invalid_auth' });
    expect(await post(fake.botToken)).toMatchObject({
      ok: true,
      channel: 'C0GENERAL',
      message: { text: 'json' },
    });
    expect(fake.channel('C0GENERAL')).toMatchObject([{ text: 'json', blocks: BUTTON_BLOCKS }]);
  });
});

describe('fake Slack in Socket Mode', () => {
  it('connects a Socket Mode App through apps.connections.open; envelopes reach listeners and acks come back', async () => {
    const fake = await fakeSlack();
    const app = new App({
      token: fake.botToken,
      appToken: fake.appToken,
      socketMode: true,
      logLevel: LogLevel.ERROR,
      // Bolt hands clientOptions to the SocketModeClient too, so apps.connections.open goes to the fake.
      clientOptions: clientOptions(fake),
    });
    const responded = deferred();
    app.command('/draw', async ({ ack, command, respond }) => {
      await ack({ text: `Queued: ${command.text}` });
      await respond({ text: 'done', response_type: 'in_channel' });
      responded.resolve();
    });
    app.action('retry', async ({ ack }) => {
      await ack();
    });
    await app.start();
    cleanups.push(() => app.stop());
    await fake.socketConnected();
    const open = fake.log.of('apps.connections.open');
    expect(open).toHaveLength(1);

    const ack = await fake.socketSlashCommand({ command: '/draw', text: 'a fox', user_id: 'U0ALICE' });
    expect(ack.payload).toEqual({ text: 'Queued: a fox' });
    expect(ack.ackMs).toBeLessThan(3000);
    await responded.promise;
    expect(fake.responses(ack.responseToken)).toEqual([{ text: 'done', response_type: 'in_channel' }]);
    expect(fake.channel('C0GENERAL')).toMatchObject([{ text: 'done', via: 'response_url' }]);
    expect(fake.channel('C0GENERAL')[0]?.ephemeral).toBeUndefined();

    const posted = await app.client.chat.postMessage({
      channel: 'C0GENERAL',
      text: 'a fox',
      blocks: BUTTON_BLOCKS,
    });
    const click = await fake.socketBlockAction({
      channel: 'C0GENERAL',
      message_ts: posted.ts!,
      action_id: 'retry',
    });
    expect(click.payload).toEqual({});
  });

  it('refuses apps.connections.open without the app-level token', async () => {
    const fake = await fakeSlack();
    const logger = recordingLogger();
    const app = new App({
      token: fake.botToken,
      appToken: 'xapp-wrong',
      socketMode: true,
      logger,
      clientOptions: clientOptions(fake),
    });
    await expect(app.start()).rejects.toMatchObject({ data: { error: 'invalid_auth' } });
    expect(logger.errors).toEqual([expect.stringContaining('Failed to retrieve a new WSS URL')]);
  });
});
