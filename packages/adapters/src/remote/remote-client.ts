/**
 * `createRemoteClient`: the `HordeClient` of a remote AI Horde — the public one, a community horde, or a
 * hordekit server — for chat bots in remote mode. Every call the community JS SDK covers goes through it
 * (`new AIHorde({ api_route, client_agent, cache: {} })`); plain `fetch` is used only where the SDK has no
 * method or gets it wrong, each place marked "SDK gap" below. Every chat user acts through the bot's key
 * unless they linked their own (`keyFor`); refusals arrive as core's `HordeError` with the horde's `rc`.
 */
import {
  type AccountSummary,
  type Credentials,
  type GenerateResult,
  type HordeClient,
  HordeError,
  type IdentityInput,
  type ModelStatus,
  type RequestKind,
  type WorkerView,
} from '@hordekit/core';
import { fromResponse, isNotFound, viaSdk } from './errors.js';
import { hordekitProbe, hordeRoutes } from './routes.js';
import { AIHorde, type ImageGenerationInput, type TextGenerationInput } from './sdk.js';
import { watchRemoteRequest } from './watch.js';
import {
  toAccount,
  toCheck,
  toModel,
  toStatus,
  toWorker,
  type WireModel,
  type WireStatus,
  type WireUser,
  type WireWorker,
} from './wire.js';

export interface RemoteClientOptions {
  /** The horde: `https://aihorde.net`, `https://aihorde.net/api` and `https://aihorde.net/api/v2` all work. */
  url: string;
  /**
   * The bot's key (`HORDE_REMOTE_API_KEY`); every chat user without a linked key of their own acts through
   * it. `'0000000000'` is the anonymous key.
   */
  apiKey: string;
  /** `Client-Agent` header, `name:version:contact`. @default 'hordekit-chat:0.1.0:https://github.com/hordekit/hordekit' */
  clientAgent?: string;
  /**
   * `fetch` for the calls the SDK does not cover (the SSE stream, the model list, image downloads,
   * idempotent transfers, the serviceinfo probe). The SDK itself always uses the global `fetch`.
   * @default globalThis.fetch
   */
  fetch?: typeof fetch;
  /**
   * How often `watch` polls a horde without push. The public horde allows `check` 10/s per IP and
   * request; ArtBot polls every 2.1 s. Never below 100 ms, nor 1 s for text (its status is 60/min).
   * @default 2000
   */
  pollIntervalMs?: number;
  /** A chat user's own linked AI Horde key, if they have one. @default none: everyone uses `apiKey` */
  keyFor?: (identity: IdentityInput) => Promise<string | undefined>;
  /** Follow `GET /generate/stream/{id}` when the horde is hordekit; `false` always polls. @default true */
  stream?: boolean;
  /**
   * How long the model and worker lists are reused: autocomplete asks on every keystroke, and the public
   * horde allows 90 requests a minute per IP on these routes. 0 asks every time. @default 10000
   */
  listCacheMs?: number;
}

export const DEFAULT_CLIENT_AGENT = 'hordekit-chat:0.1.0:https://github.com/hordekit/hordekit';
/** Request ids remembered (their kind and model, whether we cancelled them). */
const REMEMBERED = 10_000;

export function createRemoteClient(options: RemoteClientOptions): HordeClient {
  const { api, root } = hordeRoutes(options.url);
  const clientAgent = options.clientAgent ?? DEFAULT_CLIENT_AGENT;
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const headers = { 'Client-Agent': clientAgent };
  const listCacheMs = options.listCacheMs ?? 10_000;
  const sdk = new AIHorde({ api_route: api, client_agent: clientAgent, cache: {} });

  const requests = new Map<string, { kind: RequestKind; model?: string | undefined }>();
  const cancelled = new Map<string, true>();
  /** Sets `id`, forgetting the oldest entry beyond `REMEMBERED`. */
  function remember<T>(map: Map<string, T>, id: string, value: T): void {
    map.set(id, value);
    if (map.size > REMEMBERED) map.delete(map.keys().next().value as string);
  }

  function keyOf(as: Credentials): string {
    if ('apiKey' in as) return as.apiKey;
    throw new HordeError(
      'BadRequest',
      'A remote horde knows accounts by API key only: credentials with an accountId work on the embedded horde alone. Use the credentials accountFor() returns.',
    );
  }

  /** GET on the API with plain fetch, the horde's refusals as `HordeError`. */
  async function getJson<T>(path: string): Promise<T> {
    const response = await fetchImpl(`${api}${path}`, { headers });
    if (!response.ok) throw await fromResponse(response);
    return (await response.json()) as T;
  }

  /**
   * One call for a request of either kind: the kind we remember, else image first and text when the
   * horde does not know an image request by that id (the API has separate routes, the id does not say).
   */
  async function byKind<T>(
    id: string,
    image: () => Promise<T>,
    text: () => Promise<T>,
  ): Promise<{ wire: T; kind: RequestKind }> {
    const known = requests.get(id)?.kind;
    if (known === 'text') return { wire: await viaSdk(text), kind: 'text' };
    try {
      const wire = await viaSdk(image);
      if (!known) remember(requests, id, { kind: 'image' });
      return { wire, kind: 'image' };
    } catch (error) {
      if (known || !isNotFound(error)) throw error;
    }
    const wire = await viaSdk(text);
    remember(requests, id, { kind: 'text' });
    return { wire, kind: 'text' };
  }

  const check = async (id: string) =>
    toCheck(
      (
        await byKind<WireStatus>(
          id,
          () => sdk.getImageGenerationCheck(id),
          // No text check route exists upstream: the text status (60/min) carries the same counters.
          () => sdk.getTextGenerationStatus(id) as Promise<WireStatus>,
        )
      ).wire,
    );

  async function status(id: string) {
    const { wire, kind } = await byKind<WireStatus>(
      id,
      () => sdk.getImageGenerationStatus(id) as Promise<WireStatus>,
      () => sdk.getTextGenerationStatus(id) as Promise<WireStatus>,
    );
    return toStatus(wire, kind);
  }

  function accepted(
    answer: {
      id?: string;
      kudos?: number;
      message?: string;
      warnings?: { code?: string; message?: string }[];
    },
    kind: RequestKind,
    model: string | undefined,
  ): GenerateResult {
    if (answer.id) remember(requests, answer.id, { kind, model });
    return {
      id: answer.id ?? null,
      kudos: answer.kudos ?? 0,
      ...(answer.message ? { message: answer.message } : {}),
      // Core knows one warning; the others (upstream has a few more) are advice the bots do not show.
      warnings: (answer.warnings ?? [])
        .filter((warning) => warning.code === 'NoAvailableWorker')
        .map((warning) => ({ code: 'NoAvailableWorker' as const, message: warning.message ?? '' })),
    };
  }

  async function account(as: Credentials): Promise<AccountSummary> {
    try {
      return toAccount((await viaSdk(() => sdk.findUser({ token: keyOf(as) }))) as WireUser);
    } catch (error) {
      // `find_user` answers an unknown key with UserNotFound: to a bot, that is a key the horde refuses.
      if (error instanceof HordeError && error.rc === 'UserNotFound') {
        throw new HordeError('InvalidAPIKey', error.message, { details: error.details, cause: error });
      }
      throw error;
    }
  }

  const lists = new Map<string, { at: number; value: Promise<unknown> }>();
  function cachedList<T>(key: string, load: () => Promise<T>): Promise<T> {
    const hit = lists.get(key);
    if (hit && Date.now() - hit.at < listCacheMs) return hit.value as Promise<T>;
    const value = load();
    lists.set(key, { at: Date.now(), value });
    value.catch(() => lists.delete(key));
    return value;
  }

  const isHordekit = hordekitProbe(root, fetchImpl, headers);
  const streams = () => (options.stream === false ? Promise.resolve(false) : isHordekit());

  const client: HordeClient = {
    async generateImage(as, input) {
      const answer = await viaSdk(() =>
        sdk.postAsyncImageGenerate(input as ImageGenerationInput, { token: keyOf(as) }),
      );
      return accepted(answer, 'image', input.models?.[0]);
    },
    async generateText(as, input) {
      const answer = await viaSdk(() =>
        sdk.postAsyncTextGenerate(input as TextGenerationInput, { token: keyOf(as) }),
      );
      return accepted(answer, 'text', input.models?.[0]);
    },
    check,
    status,
    async cancel(id) {
      const { wire, kind } = await byKind<WireStatus>(
        id,
        () => sdk.deleteImageGenerationRequest(id) as Promise<WireStatus>,
        () => sdk.deleteTextGenerationRequest(id) as Promise<WireStatus>,
      );
      remember(cancelled, id, true);
      return toStatus(wire, kind);
    },
    watch: (id, watchOptions = {}) =>
      watchRemoteRequest(id, {
        api,
        fetch: fetchImpl,
        headers,
        pollIntervalMs: options.pollIntervalMs ?? 2000,
        signal: watchOptions.signal,
        streams,
        request: async () => {
          if (!requests.has(id)) await check(id); // learns the kind
          return requests.get(id) ?? { kind: 'image' };
        },
        source: { check, status, cancelled: (requestId) => cancelled.has(requestId) },
      }),
    account,
    // The AI Horde API has no kudos journal: a remote account's movements cannot be listed.
    activity: async () => [],
    async transfer(as, input) {
      const token = keyOf(as);
      const body = { username: input.to, amount: input.amount };
      let answer: { transferred?: number };
      if (input.idempotencyKey) {
        // SDK gap: postKudosTransfer cannot send headers, and the Idempotency-Key header is the point here.
        const response = await fetchImpl(`${api}/kudos/transfer`, {
          method: 'POST',
          headers: {
            ...headers,
            apikey: token,
            'Content-Type': 'application/json',
            'Idempotency-Key': input.idempotencyKey,
          },
          body: JSON.stringify(body),
        });
        if (!response.ok) throw await fromResponse(response);
        answer = (await response.json()) as { transferred?: number };
      } else {
        answer = await viaSdk(() => sdk.postKudosTransfer(body, { token }));
      }
      // The wire answers `{ transferred }` only: no transfer id, and a replay looks like the original.
      return { transferred: answer.transferred ?? input.amount, replayed: false, transferId: 0 };
    },
    async accountFor(identity) {
      const linked = await options.keyFor?.(identity);
      const apiKey = linked || options.apiKey;
      // Without a linked key the person acts through the bot's own account, shared with everyone else.
      return { credentials: { apiKey }, account: await account({ apiKey }), created: false, shared: !linked };
    },
    async workerKey() {
      // The AI Horde API cannot issue or reset keys: people register (or reset theirs) on the horde's site.
      throw new HordeError(
        'Forbidden',
        `This horde hands out worker keys itself: get yours from its registration page, ${root}/register, and run your worker with that key.`,
      );
    },
    async linkIdentity() {
      throw new HordeError(
        'Forbidden',
        'A remote horde knows accounts by API key only: link the person’s own key instead (keyFor).',
      );
    },
    // SDK gap: getModels has no `type` option (5.2.0 never sends it), so text models were unreachable.
    models: (kind = 'image'): Promise<ModelStatus[]> =>
      cachedList(`models:${kind}`, async () =>
        (await getJson<WireModel[]>(`/status/models?type=${kind}`)).map((model) => toModel(model, kind)),
      ),
    // getWorkers has no `type` option either, but each listed worker has its type: one list, filtered here
    // (alchemists, type `interrogation`, are not a `RequestKind` and never listed).
    async workers(kind): Promise<WorkerView[]> {
      const all = await cachedList('workers', async () =>
        ((await viaSdk(() => sdk.getWorkers())) as WireWorker[]).map((worker) => ({
          type: worker.type ?? 'image',
          view: toWorker(worker),
        })),
      );
      return all
        .filter(({ type }) => (kind ? type === kind : type === 'image' || type === 'text'))
        .map(({ view }) => view);
    },
    async image(generation) {
      const value = generation.generation;
      if (/^https?:\/\//i.test(value) || value.startsWith('/')) {
        // SDK gap, and not an API call: a presigned download URL, fetched without the key.
        const response = await fetchImpl(new URL(value, `${root}/`));
        if (response.ok) return new Uint8Array(await response.arrayBuffer());
        throw new HordeError(
          'RequestNotFound',
          `The image of job ${generation.id} could not be downloaded: it is gone, or its link expired.`,
          { details: { status: response.status } },
        );
      }
      const inline = value === 'R2' || value === 'N/A' ? undefined : Buffer.from(value, 'base64');
      if (inline && inline.length > 0) return new Uint8Array(inline);
      throw new HordeError('RequestNotFound', `The image of job ${generation.id} is no longer available.`);
    },
  };
  return client;
}
