/**
 * A throw-away horde for tests: in-memory SQLite, a `FakeClock`, deterministic randomness, an
 * administrator (account 1) and a helper to register users with kudos and roles.
 */
import type { HordeConfigInput } from '../config.js';
import { createSqliteStore } from '../drivers/sqlite/index.js';
import { createHorde, type Horde } from '../engine/horde.js';
import { HordeError } from '../errors.js';
import type { HordeStore, Role } from '../storage/types.js';
import { FakeClock } from './fake-clock.js';

/** A `bridge_agent` of a current official worker (every capability, full rewards). */
export const REGEN_AGENT = 'AI Horde Worker reGen:13.0.0:https://github.com/Haidra-Org/horde-worker-reGen';

export interface TestUser {
  id: number;
  /** `name#id`. */
  alias: string;
  creds: { apiKey: string };
}

export interface TestHorde {
  clock: FakeClock;
  store: HordeStore;
  horde: Horde;
  admin: { apiKey: string };
  /** Registers an account, granting it `kudos` through the administrator. */
  user(username: string, kudos?: number, roles?: Partial<Record<Role, boolean>>): Promise<TestUser>;
}

export async function createTestHorde(config: HordeConfigInput = {}): Promise<TestHorde> {
  const clock = new FakeClock();
  const store = await createSqliteStore({ path: ':memory:' });
  const horde = await createHorde({
    store,
    clock,
    random: () => 0.5,
    config: { ...config, accounts: { adminIds: [1], ...config.accounts } },
  });
  const registered = await horde.registerAccount({ username: 'admin' });
  if (registered.account.id !== 1)
    throw new Error('the test horde expects its administrator to be account 1');
  const admin = { apiKey: registered.apiKey };
  return {
    clock,
    store,
    horde,
    admin,
    async user(username, kudos = 0, roles = {}) {
      const { account, apiKey } = await horde.registerAccount({ username, roles });
      if (kudos !== 0) await horde.modifyAccount(admin, account.id, { kudos });
      return { id: account.id, alias: `${username}#${account.id}`, creds: { apiKey } };
    },
  };
}

/** The `rc` a call failed with, or `'ok'`. Anything but a `HordeError` is rethrown. */
export async function rcOf(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return 'ok';
  } catch (error) {
    if (error instanceof HordeError) return error.rc;
    throw error;
  }
}
