/**
 * `accountPlugin`: the person's horde account beyond /kudos — `/worker` (an API key to run a worker with,
 * sent privately, once) and `/link` (one balance across platforms; a person's own key on a remote horde).
 * Its `linkedKeyFor` is what a remote client's `keyFor` option takes.
 */
import type { IdentityInput } from '@hordekit/core';
import Keyv from 'keyv';
import { defineCommand, definePlugin, type PluginDefinition } from '../framework/define.js';
import { UserError } from '../framework/errors.js';
import { linkCommand, secretsSafeHere } from './link.js';

export interface AccountPluginOptions {
  /**
   * The horde's public address, for the command line /worker sends (`HORDE_URL=…`) and, in remote mode,
   * its registration page. @default none: the message says "<this horde's address>"
   */
  hordeUrl?: string;
  /**
   * Where link codes and linked keys are kept (any keyv store: SQLite, Redis…). Give it a namespace of its
   * own: linked keys are kept under `<platform>:<user id>`, which a place's settings key can equal (a
   * Telegram private chat's id is the user's).
   * @default an in-memory keyv (codes and keys are forgotten on restart)
   */
  keyv?: Keyv;
  /**
   * Encrypts the AI Horde keys people link in remote mode (AES-256-GCM, key derived from it); at least 16
   * characters. The community horde passes its signing secret. Changing it forgets every linked key.
   * @default none: `/link <key>` is refused
   */
  secret?: string;
  /** How long a link code works. @default 600000 (10 minutes) */
  codeTtlMs?: number;
  /** The time, for code expiry. @default Date.now */
  now?: () => number;
}

export interface AccountPlugin extends PluginDefinition {
  /** The person's own linked AI Horde key (remote mode), decrypted; give it to `createRemoteClient({ keyFor })`. */
  linkedKeyFor(identity: IdentityInput): Promise<string | undefined>;
}

/** A worker name from a display name: lower-case letters, digits and dashes, made unique by the account id. */
function workerName(displayName: string, accountId: number): string {
  const base = displayName
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    // The horde reserves these words in worker names.
    .replace(/colab|tpu|google/g, 'x');
  return `${base || 'my'}-worker-${accountId}`;
}

export function accountPlugin(options: AccountPluginOptions = {}): AccountPlugin {
  const keyv = options.keyv ?? new Keyv({ namespace: 'hordekit-accounts' });
  const link = linkCommand({
    keyv,
    secret: options.secret,
    codeTtlMs: options.codeTtlMs ?? 10 * 60_000,
    now: options.now ?? Date.now,
    hordeUrl: options.hordeUrl,
  });
  const hordeUrl = options.hordeUrl?.replace(/\/+$/, '') ?? "<this horde's address>";

  const worker = defineCommand({
    name: 'worker',
    description: 'Get an API key to run a worker and earn kudos',
    private: true,
    options: {
      name: { type: 'string', description: 'Your worker’s name (default: from your name)', maxLength: 100 },
    },
    async handler(context) {
      if (!secretsSafeHere(context.where)) {
        throw new UserError('Ask me for a worker key in a private chat: nobody else may read it.');
      }
      const account = await context.account();
      // A remote horde refuses here, saying where its keys come from.
      const apiKey = await context.horde.client.workerKey(account.credentials);
      const name = context.options.name ?? workerName(context.who.displayName, account.summary.id);
      await context.ephemeral(
        `Your worker key is in the command below, shown this once: keep it secret. Any key you had before stops working now, and /worker again replaces this one.\n` +
          'Run our worker with it in a checkout of hordekit (add IMAGE_BACKEND and IMAGE_BACKEND_URL for your image server; without them it runs the demo backend):\n' +
          `HORDE_URL=${hordeUrl} HORDE_API_KEY=${apiKey} WORKER_NAME=${name} npm run worker\n` +
          `What it draws earns kudos for your account ${account.summary.alias}.`,
      );
    },
  });

  const plugin = definePlugin({ name: 'account', commands: [worker, link.command] });
  return Object.assign(plugin, { linkedKeyFor: link.linkedKeyFor });
}
