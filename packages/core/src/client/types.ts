/**
 * `HordeClient`: the one interface chat adapters (and anything else embedding hordekit) use to talk to a
 * horde, embedded in the same process or remote over the AI Horde API. Shapes follow the AI Horde's wire
 * fields, so a remote implementation passes them through.
 */
import type { Credentials } from '../engine/accounts.js';
import type { GenerateResult } from '../engine/generate.js';
import type { ModelStatus } from '../engine/stats.js';
import type { Generation, RequestCheck, RequestStatus } from '../engine/status.js';
import type { TransferOutcome } from '../engine/transfers.js';
import type { WorkerView } from '../engine/workers.js';
import type { RequestEvent } from '../events/types.js';
import type { ImageGenerateInput, TextGenerateInput } from '../requests/schemas.js';
import type { JournalKind, KudosDetails, RequestKind } from '../storage/types.js';

export type { Credentials };

export interface AccountSummary {
  id: number;
  username: string;
  /** `username#id`, what others use to send kudos. */
  alias: string;
  kudos: number;
  /** Rewards held until the account is trusted. */
  escrow: number;
  kudos_details: KudosDetails;
  concurrency: number;
  trusted: boolean;
  moderator: boolean;
  /** Jobs waiting or in progress right now. */
  active_jobs: number;
}

export interface KudosMovement {
  at: number;
  kind: JournalKind;
  /** Change to the spendable balance, in kudos. */
  amount: number;
  /** Change to the escrow, in kudos. */
  escrow: number;
  ref: string | null;
}

export interface IdentityInput {
  /** `discord`, `telegram`, `slack`, … */
  provider: string;
  externalId: string;
  /** Used as the username when the account is created. */
  username: string;
}

export interface WatchOptions {
  signal?: AbortSignal;
}

export interface HordeClient {
  generateImage(as: Credentials, input: ImageGenerateInput): Promise<GenerateResult>;
  generateText(as: Credentials, input: TextGenerateInput): Promise<GenerateResult>;
  check(requestId: string): Promise<RequestCheck>;
  status(requestId: string): Promise<RequestStatus>;
  cancel(requestId: string): Promise<RequestStatus>;
  /** The request's events until it is done, faulted, cancelled or expired (or `signal` aborts). */
  watch(requestId: string, options?: WatchOptions): AsyncIterable<RequestEvent>;
  account(as: Credentials): Promise<AccountSummary>;
  /** Recent kudos movements of the account, newest first. */
  activity(as: Credentials, options?: { limit?: number }): Promise<KudosMovement[]>;
  transfer(
    as: Credentials,
    input: { to: string; amount: number; idempotencyKey?: string },
  ): Promise<TransferOutcome>;
  /** Finds or creates the account of a chat platform user; the credentials act for it. */
  accountFor(identity: IdentityInput): Promise<{
    credentials: Credentials;
    account: AccountSummary;
    created: boolean;
    /** The account is not this person's own but shared (a remote horde reached through the bot's key). */
    shared?: boolean;
  }>;
  /**
   * A new API key for the account `as` acts for, to run workers with (chat-created accounts have none until
   * then). Any key the account had before stops working at once. A remote horde refuses: its keys come
   * from its own registration page.
   */
  workerKey(as: Credentials): Promise<string>;
  /**
   * Points `identity` at the account `as` acts for, so one person's identities on several platforms share
   * one balance. An identity bound to another account before is re-pointed; that account keeps its kudos.
   * A remote horde refuses: it knows accounts by API key only (link the person's own key instead).
   */
  linkIdentity(as: Credentials, identity: IdentityInput): Promise<AccountSummary>;
  models(kind?: RequestKind): Promise<ModelStatus[]>;
  workers(kind?: RequestKind): Promise<WorkerView[]>;
  /**
   * The bytes of one image generation of `status()`: uploaded by its worker (`"R2"`), inline base64, or, from
   * a remote horde, a URL. Rejects when the image is gone (the request expired) or was never delivered.
   */
  image(generation: Pick<Generation, 'id' | 'generation'>): Promise<Uint8Array>;
}

/** Reads an uploaded result image by its job id (the server's image store); `undefined` when absent. */
export type ImageReader = (jobId: string) => Promise<Uint8Array | undefined>;
