/**
 * The conformance driver of Slack: the adapter's Bolt app in HTTP mode, receiving signed slash commands
 * and block actions from the fake Slack, and the channels read back as a Slack client shows them
 * (section blocks as the text, ephemeral messages to their one reader). Slack marks no channel adult: the
 * workspace's setting makes the adult channel (and every other) one.
 */
import type { ButtonStyle, ChatApp } from '@hordekit/adapters';
import { createSlackAdapter, type SlackAdapter, slackWhere } from '@hordekit/adapters/slack';
import {
  type DriverButton,
  type DriverMessage,
  type DriverPlace,
  type DriverUser,
  type FakeSlack,
  type FakeSlackMessage,
  type PlatformDriver,
  startFakeSlack,
} from '@hordekit/adapters/testing';
import { LogLevel } from '@slack/bolt';
import { expect } from 'vitest';
import { commandText } from './command-text.js';

const TEAM = 'T0TEAM';
const CHANNELS: Record<DriverPlace, string> = { public: 'C0GENERAL', adult: 'C0ADULT' };
const PEOPLE: Record<DriverUser, string> = { alice: 'U0ALICE', bob: 'U0BOB', admin: 'U0ADA' };

interface Element {
  action_id: string;
  value: string;
  style?: string;
  text: { text: string };
}

interface Block {
  type: string;
  block_id?: string;
  text?: { text: string };
  elements?: Element[];
}

const blocksOf = (blocks: unknown): Block[] => (Array.isArray(blocks) ? (blocks as Block[]) : []);

/** `&`, `<` and `>` are escaped in Slack text: a client shows them plain. */
const plain = (text: string) => text.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');

/** What a Slack client shows as the text: the section blocks when there are any. */
function shownText(text: string, blocks: unknown): string {
  const sections = blocksOf(blocks).flatMap((block) =>
    block.type === 'section' && block.text ? [block.text.text] : [],
  );
  return plain(sections.length > 0 ? sections.join('') : text);
}

function buttonsOf(blocks: unknown): (DriverButton & { block_id: string; action_id: string })[] {
  return blocksOf(blocks).flatMap((block) =>
    block.type !== 'actions'
      ? []
      : (block.elements ?? []).map((element) => ({
          label: element.text.text,
          action: element.action_id.replace(/#\d+$/, ''),
          payload: element.value,
          // Slack's default button is the plain one.
          style: (element.style ?? 'secondary') as ButtonStyle,
          block_id: block.block_id ?? '',
          action_id: element.action_id,
        })),
  );
}

export function slackDriver(): PlatformDriver {
  let fake: FakeSlack | undefined;
  let adapter: SlackAdapter | undefined;
  let chat: ChatApp | undefined;
  let url = '';
  /** The log's length when the last command started, and when it had finished. */
  let window = { from: 0, to: 0 };

  const started = () => {
    if (!fake || !adapter || !chat) throw new Error('slack driver: not started');
    return { fake, adapter, chat };
  };
  const toDriver = (message: FakeSlackMessage, viewer?: string): DriverMessage => ({
    id: message.ts,
    text: shownText(message.text, message.blocks),
    images: (message.files ?? []).flatMap((file) => (file.bytes ? [file.bytes] : [])),
    buttons: buttonsOf(message.blocks).map(({ label, action, payload, style }) => ({
      label,
      action,
      payload,
      style,
    })),
    // What is for one person alone the adapter says with chat.postEphemeral.
    private:
      message.ephemeral === true && message.ephemeralTo === viewer && message.via === 'chat.postEphemeral',
    raw: message,
  });
  const channel = (where: DriverPlace) => started().fake.channel(CHANNELS[where]);
  const windowCalls = () => started().fake.log.calls.slice(window.from, window.to);

  return {
    platform: 'slack',
    users: {
      alice: { id: PEOPLE.alice, displayName: 'alice' },
      bob: { id: PEOPLE.bob, displayName: 'bob' },
      admin: { id: PEOPLE.admin, displayName: 'ada' },
    },
    places: {
      public: slackWhere(TEAM, CHANNELS.public),
      adult: slackWhere(TEAM, CHANNELS.adult),
    },
    editIntervalMs: 50,

    async start(chatApp) {
      chat = chatApp;
      fake = await startFakeSlack({
        teamId: TEAM,
        channels: { [CHANNELS.public]: { name: 'general' }, [CHANNELS.adult]: { name: 'after-dark' } },
        users: {
          [PEOPLE.alice]: { name: 'alice' },
          [PEOPLE.bob]: { name: 'bob' },
          [PEOPLE.admin]: { name: 'ada', is_admin: true },
        },
      });
      adapter = createSlackAdapter({
        chat: chatApp,
        token: fake.botToken,
        signingSecret: fake.signingSecret,
        apiUrl: fake.apiUrl,
        clientOptions: { retryConfig: { retries: 0 } },
        logLevel: LogLevel.ERROR,
        // Short, so that a quick demo job still shows its progress edits.
        editIntervalMs: 50,
      });
      const { port } = await adapter.start({ port: 0, host: '127.0.0.1' });
      url = `http://127.0.0.1:${port}`;
    },
    async stop() {
      await adapter?.idle();
      await adapter?.stop();
      await fake?.close();
    },

    async command(user, name, options = {}, where = 'public') {
      const { fake, adapter, chat } = started();
      const text = commandText(chat, name, options, (person) => `<@${PEOPLE[person]}|${person}>`);
      window = { from: fake.log.calls.length, to: fake.log.calls.length };
      const answer = await fake.slashCommand(url, {
        command: `/${name}`,
        text,
        user_id: PEOPLE[user],
        channel_id: CHANNELS[where],
      });
      // Bolt's ack: an empty 200, at once; everything else comes through the Web API.
      expect(answer.status).toBe(200);
      expect(answer.body).toBe('');
      await adapter.idle();
      window.to = fake.log.calls.length;
      return { ackMs: answer.ackMs };
    },

    async press(user, message, label) {
      const { fake, adapter } = started();
      const raw = message.raw as FakeSlackMessage;
      const button = buttonsOf(raw.blocks).find((candidate) => candidate.label === label);
      if (!button) throw new Error(`no button "${label}" on ${raw.ts}`);
      const answer = await fake.blockAction(url, {
        user: PEOPLE[user],
        channel: raw.channel,
        message_ts: raw.ts,
        action_id: button.action_id,
        value: button.payload,
        block_id: button.block_id,
      });
      expect(answer.status).toBe(200);
      await adapter.idle();
    },

    async lastMessageFor(user, where = 'public') {
      const id = PEOPLE[user];
      const last = channel(where)
        .filter((message) => !message.ephemeral || message.ephemeralTo === id)
        .at(-1);
      if (!last) throw new Error(`${user} sees no message in ${where}`);
      return toDriver(last, id);
    },

    async publicMessages(where = 'public') {
      return channel(where)
        .filter((message) => !message.ephemeral)
        .map((message) => toDriver(message));
    },

    async lastProgress() {
      // Posted with chat.postMessage, updated with chat.update, deleted when the images are shared.
      const calls = windowCalls();
      const first = calls.find((call) => call.method === 'chat.postMessage');
      if (!first) return [];
      const updates = calls.filter((call) => call.method === 'chat.update');
      return [first, ...updates].map((call, index) => ({
        id: `progress-${index}`,
        text: shownText(String(call.body.text ?? ''), call.body.blocks),
        images: [],
        buttons: buttonsOf(call.body.blocks).map(({ label, action, payload, style }) => ({
          label,
          action,
          payload,
          style,
        })),
        private: false,
        raw: call.body,
      }));
    },

    async makeAdult(chatApp) {
      await chatApp.settings.update(slackWhere(TEAM, CHANNELS.adult), { adult: true });
    },
    async settle() {
      await started().adapter.idle();
    },

    expectRendered(result) {
      const raw = result.raw as FakeSlackMessage;
      // Shared with the current file-upload API, as WebP; the progress message was deleted after it was posted.
      expect(raw.via).toBe('files.completeUploadExternal');
      expect(raw.files).toHaveLength(1);
      expect(raw.files![0]!.name).toMatch(/\.webp$/);
      const calls = windowCalls();
      const deleted = calls.filter((call) => call.method === 'chat.delete');
      expect(deleted).toHaveLength(1);
      expect(calls.indexOf(deleted[0]!)).toBeGreaterThan(
        calls.findIndex((call) => call.method === 'chat.postMessage'),
      );
      // Block Kit knows two button styles; the plain one has none.
      const elements = blocksOf(raw.blocks).flatMap((block) => block.elements ?? []);
      expect(elements.map((element) => [element.text.text, element.action_id, element.style])).toEqual([
        ['Redo (new seed)', 'draw:redo', 'primary'],
        ['Details', 'draw:details', undefined],
        ['Delete', 'draw:delete', 'danger'],
      ]);
    },
  };
}
