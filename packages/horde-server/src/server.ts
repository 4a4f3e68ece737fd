/**
 * `createServer`: the AI Horde API v2 over a hordekit engine, as a Hono app. Routes live in `routes/`, one
 * file per resource; cross-cutting behaviour (CORS, the `Horde-Node` header, logging, rate limits,
 * metrics) wraps them in `middleware/`; errors become `{ message, rc }` in one place (`http/errors.ts`).
 *
 * @example
 * const horde = await createHorde({ store: await createSqliteStore({ path: 'horde.db' }) });
 * const server = await createServer({ horde, blobs: await createFilesystemBlobStore({ dir: 'images' }) });
 * serve({ fetch: server.app.fetch, port: 7001 });
 */
import { hostname } from 'node:os';
import type { Horde } from '@hordekit/core';
import { Hono } from 'hono';
import { type Logger, pino } from 'pino';
import type { BlobStore } from './blobs/types.js';
import type { ServerEnv } from './http/env.js';
import { createErrorHandler, onNotFound } from './http/errors.js';
import { createImageUrls, type ImageUrls } from './images.js';
import { commonHeaders } from './middleware/common.js';
import { createMetrics, type Metrics } from './middleware/metrics.js';
import { createRateLimits, type RateLimitOptions, type RateLimits } from './middleware/rate-limit.js';
import { requestContext } from './middleware/request-context.js';
import { createWebhookDispatcher, type WebhookOptions } from './push/webhooks.js';
import { devRoutes } from './routes/dev.js';
import { docsRoutes } from './routes/docs.js';
import { imageRoutes } from './routes/generate-image.js';
import { textRoutes } from './routes/generate-text.js';
import { kudosRoutes } from './routes/kudos.js';
import { registerRoutes } from './routes/register.js';
import { statusRoutes } from './routes/status.js';
import { streamRoutes } from './routes/stream.js';
import { uploadRoutes } from './routes/uploads.js';
import { userRoutes } from './routes/users.js';
import { workerRoutes } from './routes/workers.js';
import { SERVER_VERSION } from './version.js';

export interface HordeServerOptions {
  horde: Horde;
  /** Where generated and source images are kept. */
  blobs: BlobStore;
  /** Secret for the signed image URLs. @default random per process (URLs die with a restart) */
  signingSecret?: string;
  /** Base URL put into image URLs (`https://horde.example.org`). @default the origin each request came to */
  publicUrl?: string;
  /** Name shown on `/.well-known/serviceinfo` and `/api/`. @default 'hordekit community horde' */
  name?: string;
  /** The `Horde-Node` header. @default `<hostname>:<port>:<version>`, port from the request */
  node?: string;
  /**
   * Rate limits (spec §4.1). `{ redis }` shares the counters between the nodes of one horde; `false`
   * turns them off (load tests). @default the public horde's, counted in this process
   */
  rateLimits?: RateLimitOptions | false;
  /** Trust the first hop of `X-Forwarded-For` as the client address (behind a reverse proxy). @default false */
  trustProxy?: boolean;
  /** Enables `POST /api/v2/dev/test-user` (spec §5.1) for loopback peers. @default false */
  testApiKeys?: boolean;
  /** Largest JSON body accepted, bytes. @default 16 MiB (source images travel as base64) */
  maxBodyBytes?: number;
  /** Largest image a worker may PUT, bytes. @default 32 MiB */
  maxUploadBytes?: number;
  webhooks?: WebhookOptions;
  /** @default a silent logger */
  logger?: Logger;
  /** Serve Prometheus metrics at `/metrics`. @default true */
  metrics?: boolean;
}

export interface HordeServer {
  app: Hono<ServerEnv>;
  horde: Horde;
  blobs: BlobStore;
  metrics: Metrics | undefined;
  rateLimits: RateLimits | undefined;
  /** Deletes images whose request is gone (the timer runs it every minute). */
  sweepImages(): Promise<number>;
  /** Starts the image sweep timer and webhook delivery. */
  start(): void;
  /** Stops timers and waits for queued webhooks (bounded). */
  close(): Promise<void>;
}

/** Everything a route factory needs. */
export interface RouteDeps {
  horde: Horde;
  blobs: BlobStore;
  images: ImageUrls;
  limits: RateLimits | undefined;
  metrics: Metrics | undefined;
  options: ResolvedServerOptions;
  logger: Logger;
}

export interface ResolvedServerOptions {
  name: string;
  publicUrl: string | undefined;
  node: string | undefined;
  testApiKeys: boolean;
  trustProxy: boolean;
  maxBodyBytes: number;
  maxUploadBytes: number;
}

export function createServer(options: HordeServerOptions): HordeServer {
  const { horde, blobs } = options;
  const logger = options.logger ?? pino({ level: 'silent' });
  const resolved: ResolvedServerOptions = {
    name: options.name ?? 'hordekit community horde',
    publicUrl: options.publicUrl?.replace(/\/+$/, ''),
    node: options.node,
    testApiKeys: options.testApiKeys ?? false,
    trustProxy: options.trustProxy ?? false,
    maxBodyBytes: options.maxBodyBytes ?? 16 * 1_048_576,
    maxUploadBytes: options.maxUploadBytes ?? 32 * 1_048_576,
  };
  const images = createImageUrls({
    horde,
    blobs,
    secret: options.signingSecret,
    publicUrl: resolved.publicUrl,
  });
  const metrics = options.metrics === false ? undefined : createMetrics(horde);
  const limits = options.rateLimits === false ? undefined : createRateLimits(options.rateLimits ?? {});
  const webhooks = createWebhookDispatcher(horde, images, { ...options.webhooks, logger });
  const deps: RouteDeps = { horde, blobs, images, limits, metrics, options: resolved, logger };

  const app = new Hono<ServerEnv>();
  app.onError(createErrorHandler(logger));
  app.notFound(onNotFound);
  app.use('*', requestContext(resolved, logger, metrics));
  app.use('*', commonHeaders(resolved.node ?? `${hostname()}`, SERVER_VERSION));

  const v2 = new Hono<ServerEnv>();
  v2.route('/', imageRoutes(deps));
  v2.route('/', textRoutes(deps));
  v2.route('/', streamRoutes(deps));
  v2.route('/', uploadRoutes(deps));
  v2.route('/', userRoutes(deps));
  v2.route('/', workerRoutes(deps));
  v2.route('/', kudosRoutes(deps));
  v2.route('/', statusRoutes(deps));
  v2.route('/', devRoutes(deps));
  app.route('/api/v2', v2);
  app.route('/', registerRoutes(deps));
  app.route('/', docsRoutes(deps));
  if (metrics) app.get('/metrics', metrics.handler);

  let sweepTimer: NodeJS.Timeout | undefined;
  return {
    app,
    horde,
    blobs,
    metrics,
    rateLimits: limits,
    sweepImages: () => images.sweep(),
    start() {
      webhooks.start();
      if (sweepTimer) return;
      sweepTimer = setInterval(() => {
        images.sweep().catch((error) => logger.warn({ err: error }, 'image sweep failed'));
      }, 60_000);
      sweepTimer.unref();
    },
    async close() {
      if (sweepTimer) clearInterval(sweepTimer);
      sweepTimer = undefined;
      await webhooks.close();
    },
  };
}
