/**
 * Our worker node against a real community horde, for end-to-end tests: a worker owner account, an
 * `ImageWorker` / `TextWorker` on a given backend with quick timings, a reporter that keeps every notice
 * and the latest snapshot, and the requester's side (send a request, wait for it, fetch the images).
 */
import {
  BRIDGE_AGENT,
  HordeApi,
  type ImageBackend,
  ImageWorker,
  type ImageWorkerOptions,
  type Notice,
  type TextBackend,
  TextWorker,
  type TextWorkerOptions,
  type WorkerReporter,
  type WorkerSnapshot,
  type WorkerTiming,
} from '@hordekit/worker';
import { absoluteUrl, download, waitUntil } from './horde-http.js';
import type { TestAccount, TestServer } from './server.js';

/** Timings a test can wait for: every pause and retry in tens of milliseconds. */
export const QUICK_TIMING: Partial<WorkerTiming> = {
  idlePollMs: 50,
  errorBackoffMs: { initial: 50, max: 400 },
  shortPauseMs: 500,
  longPauseMs: 500,
  faultPauseMs: 500,
  jobTimeoutMs: 5000,
  submitRetry: { attempts: 10, initialDelayMs: 50, maxDelayMs: 200 },
  uploadRetry: { attempts: 3, initialDelayMs: 50, maxDelayMs: 200 },
};

export class RecordingReporter implements WorkerReporter {
  readonly notices: Notice[] = [];
  last: WorkerSnapshot | undefined;
  readonly progress: number[] = [];

  notice(notice: Notice): void {
    this.notices.push(notice);
  }

  update(snapshot: WorkerSnapshot): void {
    this.last = snapshot;
    for (const job of snapshot.inFlight) if (job.progress !== undefined) this.progress.push(job.progress);
  }

  text(): string {
    return this.notices.map((notice) => `${notice.level} ${notice.message}`).join('\n');
  }
}

interface HarnessOptions {
  /** Where the worker talks to (defaults to the test server; a proxy in front of it in some tests). */
  url?: string;
  owner?: TestAccount;
  name?: string;
  timing?: Partial<WorkerTiming>;
}

export async function startImageWorker(
  ts: TestServer,
  backend: ImageBackend,
  options: HarnessOptions & Partial<Omit<ImageWorkerOptions, 'api' | 'backend' | 'timing' | 'name'>> = {},
) {
  const owner = options.owner ?? (await ts.user(`owner-${Math.random().toString(36).slice(2, 8)}`));
  const reporter = new RecordingReporter();
  const worker = new ImageWorker({
    bridgeAgent: BRIDGE_AGENT,
    maxPixels: 1024 * 1024,
    ...options,
    api: new HordeApi({ url: options.url ?? ts.origin, apiKey: owner.apiKey, clientAgent: BRIDGE_AGENT }),
    name: options.name ?? `worker-${owner.id}`,
    backend,
    reporter,
    timing: { ...QUICK_TIMING, ...options.timing },
  });
  await worker.start();
  return { worker, owner, reporter };
}

export async function startTextWorker(
  ts: TestServer,
  backend: TextBackend,
  options: HarnessOptions & Partial<Omit<TextWorkerOptions, 'api' | 'backend' | 'timing' | 'name'>> = {},
) {
  const owner = options.owner ?? (await ts.user(`owner-${Math.random().toString(36).slice(2, 8)}`));
  const reporter = new RecordingReporter();
  const worker = new TextWorker({
    bridgeAgent: BRIDGE_AGENT,
    ...options,
    api: new HordeApi({ url: options.url ?? ts.origin, apiKey: owner.apiKey, clientAgent: BRIDGE_AGENT }),
    name: options.name ?? `text-worker-${owner.id}`,
    backend,
    reporter,
    timing: { ...QUICK_TIMING, ...options.timing },
  });
  await worker.start();
  return { worker, owner, reporter };
}

/** POSTs an image request; returns its id (fails the test on any other answer). */
export async function requestImage(
  ts: TestServer,
  apikey: string,
  body: Record<string, unknown>,
): Promise<string> {
  const res = await ts.call('POST', '/generate/async', { apikey, body });
  if (res.status !== 202)
    throw new Error(`generate/async answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body.id as string;
}

export async function requestText(
  ts: TestServer,
  apikey: string,
  body: Record<string, unknown>,
): Promise<string> {
  const res = await ts.call('POST', '/generate/text/async', { apikey, body });
  if (res.status !== 202)
    throw new Error(`generate/text/async answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body.id as string;
}

/** Waits until the request is done and returns its status body. */
export async function waitForStatus(
  ts: TestServer,
  id: string,
  kind: 'image' | 'text' = 'image',
  timeoutMs = 15_000,
) {
  const path = kind === 'image' ? `/generate/status/${id}` : `/generate/text/status/${id}`;
  return waitUntil(async () => {
    const res = await ts.call('GET', path);
    return res.body.done === true ? res.body : undefined;
  }, timeoutMs);
}

/** The requester's download of every generation of a finished image request. */
export async function downloadImages(
  ts: TestServer,
  status: { generations: { img: string }[] },
): Promise<Buffer[]> {
  const images: Buffer[] = [];
  for (const generation of status.generations) {
    const { status: code, bytes } = await download(absoluteUrl(ts, generation.img));
    if (code !== 200) throw new Error(`image download answered ${code}`);
    images.push(bytes);
  }
  return images;
}

/** Kudos of an account now, from the engine: spendable plus escrow (untrusted owners' rewards wait there). */
export async function kudosOf(ts: TestServer, accountId: number): Promise<number> {
  const account = await ts.horde.getAccount(accountId);
  if (!account) throw new Error(`no account ${accountId}`);
  return (account.balance + account.escrow) / 100;
}
