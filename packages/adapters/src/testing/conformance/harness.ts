/**
 * One horde, one platform and one chat app per `describe`, shared by its scenarios (a horde and a worker
 * take a second or two to start): before each scenario the platform has settled, the place settings are
 * wiped, the app's clock moves a minute on (no cooldown carries over) and the record of dispatched
 * invocations is emptied.
 */
import Keyv from 'keyv';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { type ChatApp, createChatApp } from '../../framework/app.js';
import { SettingsStore } from '../../framework/settings.js';
import { drawPlugin } from '../../plugins/draw.js';
import { kudosPlugin } from '../../plugins/kudos.js';
import type { ConformanceHorde, DriverFactory, DriverUser, HordeFactory, PlatformDriver } from './types.js';

export interface Conformance {
  readonly driver: PlatformDriver;
  readonly horde: ConformanceHorde;
  /** `/draw` and `/kudos` on the horde, with a clock that moves only by `advance`. */
  readonly chat: ChatApp;
  readonly mode: 'embedded' | 'remote';
  /** Every invocation that reached the framework since the scenario began: `/command` or `plugin:action`. */
  readonly dispatched: readonly string[];
  advance(ms: number): void;
  /** The horde account `user` draws with (in remote mode, the bot's shared one). */
  accountOf(user: DriverUser): Promise<{ alias: string; shared: boolean }>;
  /** Sets the balance of the account `user` draws with. */
  setKudos(user: DriverUser, kudos: number): Promise<void>;
}

export function useConformance(makeDriver: DriverFactory, makeHorde: HordeFactory): Conformance {
  let driver: PlatformDriver | undefined;
  let horde: ConformanceHorde | undefined;
  let chat: ChatApp | undefined;
  const keyv = new Keyv();
  const dispatched: string[] = [];
  let now = Date.now();

  beforeAll(async () => {
    horde = await makeHorde();
    chat = createChatApp({
      horde: horde.horde,
      plugins: [drawPlugin(), kudosPlugin()],
      settings: new SettingsStore(keyv),
      now: () => now,
      middleware: [
        async (context, next) => {
          dispatched.push(context.kind === 'command' ? `/${context.command}` : context.press.action);
          await next();
        },
      ],
    });
    driver = makeDriver();
    await driver.start(chat);
    await horde.ready();
  });

  beforeEach(async () => {
    await driver?.settle();
    await keyv.clear();
    now += 60_000;
    dispatched.length = 0;
  });

  afterAll(async () => {
    await driver?.stop();
    await horde?.close();
  });

  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('The conformance set-up did not finish.');
    return value;
  };
  const harness: Conformance = {
    get driver() {
      return started(driver);
    },
    get horde() {
      return started(horde);
    },
    get chat() {
      return started(chat);
    },
    get mode() {
      return started(horde).horde.mode;
    },
    dispatched,
    advance(ms) {
      now += ms;
    },
    async accountOf(user) {
      const person = harness.driver.users[user];
      const { account, shared } = await harness.chat.horde.client.accountFor({
        provider: harness.driver.platform,
        externalId: person.id,
        username: person.displayName,
      });
      return { alias: account.alias, shared: shared === true };
    },
    async setKudos(user, kudos) {
      await harness.horde.setKudos((await harness.accountOf(user)).alias, kudos);
    },
  };
  return harness;
}

/** The ids of `messages`, minus those in `before`. */
export function idsSince(messages: { id: string }[], before: { id: string }[] = []): string[] {
  const old = new Set(before.map((message) => message.id));
  return messages.map((message) => message.id).filter((id) => !old.has(id));
}

export function sameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  return a !== undefined && b !== undefined && Buffer.from(a).equals(Buffer.from(b));
}

export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
