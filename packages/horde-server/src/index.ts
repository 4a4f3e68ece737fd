// @hordekit/horde-server — the AI Horde API v2 over a hordekit engine, on Hono.

// image storage
export { createFilesystemBlobStore, type FilesystemBlobStoreOptions } from './blobs/filesystem.js';
export { createPostgresBlobStore, type PostgresBlobStoreOptions } from './blobs/postgres.js';
export { createSqliteBlobStore, type SqliteBlobStoreOptions } from './blobs/sqlite.js';
export type { BlobStore } from './blobs/types.js';
// the OpenAPI document
export { buildOpenApiDocument } from './docs/openapi.js';
export { blobImageReader } from './images.js';
// policies and push
export {
  RATE_LIMIT_POLICIES,
  type RateLimitOptions,
  type RateLimitPolicy,
  type RateLimitWindow,
} from './middleware/rate-limit.js';
export type { WebhookOptions } from './push/webhooks.js';
// the server
export {
  createServer,
  type HordeServer,
  type HordeServerOptions,
  type ResolvedServerOptions,
  type RouteDeps,
} from './server.js';
export { SERVER_VERSION } from './version.js';
