/**
 * The community JS SDK (`@zeldafan0225/ai_horde` 5.2.0, ecosystem §2.1) pointed at a test server, plus the
 * wire fields its typings leave out. The SDK is used unchanged: only `api_route` and `client_agent` are set,
 * and every cache stays off (5.2.0 caches nothing unless a duration is given).
 */
// 5.2.0's `exports` map has no `types` condition, so under NodeNext resolution TypeScript finds no typings for
// the package name (TS7016). The runtime import goes through the package as any user's would; the types are
// read from the package's own index.d.ts.
// @ts-expect-error TS7016, see above
import * as untypedSdk from '@zeldafan0225/ai_horde';
import type * as Sdk from '../../node_modules/@zeldafan0225/ai_horde/index.js';
import type { TestServer } from './server.js';

const sdk = untypedSdk as typeof Sdk;
export const { AIHorde, APIError } = sdk;
export type AIHorde = Sdk.AIHorde;
export type APIError = Sdk.APIError;
type GenerationPayloadKobold = Sdk.GenerationPayloadKobold;
type GenerationPayloadStable = Sdk.GenerationPayloadStable;
type PopInputKobold = Sdk.PopInputKobold;
type PopInputStable = Sdk.PopInputStable;

export const SDK_CLIENT_AGENT = 'hordekit-tests:1:https://example.org';

export function createSdk(ts: TestServer): AIHorde {
  return new AIHorde({ api_route: ts.api, client_agent: SDK_CLIENT_AGENT, cache: {} });
}

/**
 * The image pop answer as the server sends it. 5.2.0's `GenerationPayloadStable` predates batching and R2:
 * it has no `ids`, `ttl`, `r2_upload` or `r2_uploads`.
 */
export type WireImagePop = GenerationPayloadStable & {
  ids: string[];
  ttl: number;
  r2_upload: string;
  r2_uploads: string[];
};

/** The text pop answer as the server sends it (`ids` and `ttl` are missing from the typings too). */
export type WireTextPop = GenerationPayloadKobold & { ids: string[]; ttl: number };

/**
 * A reGen-shaped pop body. `PopInput.bridge_version` is typed as required although reGen never sends it,
 * and `amount` is not typed at all, hence the cast.
 */
export function regenPop(body: Omit<PopInputStable, 'bridge_version'> & { amount?: number }): PopInputStable {
  return body as PopInputStable;
}

/**
 * koboldcpp's pop body. `PopInputKobold` is a copy of the image one: it has `max_pixels` but not
 * `max_length`, `max_context_length` or `softprompts`, and requires `bridge_version`.
 */
export function koboldPop(
  body: Omit<PopInputKobold, 'bridge_version'> & {
    max_length: number;
    max_context_length: number;
    softprompts: string[];
  },
): PopInputKobold {
  return body as unknown as PopInputKobold;
}

/**
 * An image submit as reGen sends it. The SDK types it `{ id, generation, seed: string }`: no `state`, and a
 * string seed where the API (and reGen) send an integer.
 */
export function imageSubmit(body: {
  id: string;
  generation: string;
  state: 'ok' | 'censored' | 'faulted';
  seed: number;
}) {
  return body as unknown as { id: string; generation: string; seed: string };
}

/** Awaits a call that must fail and returns the SDK's `APIError` (anything else fails the test). */
export async function apiErrorOf(call: Promise<unknown>): Promise<APIError> {
  try {
    await call;
  } catch (error) {
    if (error instanceof APIError) return error;
    throw error;
  }
  throw new Error('expected the SDK call to throw an APIError, but it resolved');
}
