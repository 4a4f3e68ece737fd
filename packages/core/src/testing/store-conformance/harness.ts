/**
 * How the conformance suite gets a store: one fresh store per test from the driver's factory, closed and
 * cleaned up after it. Tests read `h.store` (it changes when a test reopens the database).
 */
import { afterEach, beforeEach } from 'vitest';
import type { HordeStore } from '../../storage/types.js';

export interface StoreUnderTest {
  store: HordeStore;
  /** Closes and opens the same database again (file-backed drivers); absent for throw-away stores. */
  reopen?: () => Promise<HordeStore>;
  /** Removes what the store left behind (files, a schema); runs after the store is closed. */
  cleanup?: () => Promise<void>;
}

export type StoreFactory = () => Promise<StoreUnderTest>;

export interface Harness {
  /** The store of the running test. */
  readonly store: HordeStore;
  /** Whether the driver can reopen its database (the persistence cases need it). */
  readonly canReopen: boolean;
  /** Closes the store and opens the same database again; `store` is the new one afterwards. */
  reopen(): Promise<HordeStore>;
}

/** Registers the per-test set-up and tear-down in the enclosing `describe`. */
export function useStore(factory: StoreFactory): Harness {
  let current: StoreUnderTest | undefined;
  let store: HordeStore | undefined;

  beforeEach(async () => {
    current = await factory();
    store = current.store;
  });

  afterEach(async () => {
    const done = current;
    const open = store;
    current = undefined;
    store = undefined;
    await open?.close();
    await done?.cleanup?.();
  });

  return {
    get store(): HordeStore {
      if (!store) throw new Error('The store is only available inside a test.');
      return store;
    },
    get canReopen(): boolean {
      return current?.reopen !== undefined;
    },
    async reopen(): Promise<HordeStore> {
      if (!current?.reopen) throw new Error('This driver cannot reopen its database.');
      store = await current.reopen();
      return store;
    },
  };
}
