/**
 * Every endpoint the server answers, as data: `openapi.ts` turns this table into the OpenAPI document.
 * Request bodies are the engine's own zod schemas, so the document cannot drift from validation; response
 * bodies are the small zod schemas of `schemas.ts`, written from the wire reference (spec §1). The entries
 * live by resource in `routes-generate.ts`, `routes-accounts.ts` and `routes-service.ts`.
 */
import type { RouteDoc } from './route-types.js';
import { ACCOUNT_ROUTES } from './routes-accounts.js';
import { GENERATE_ROUTES } from './routes-generate.js';
import { SERVICE_ROUTES } from './routes-service.js';

export {
  type Auth,
  COMMON_HEADERS,
  type ErrorStatus,
  type Method,
  type RouteBody,
  type RouteDoc,
  type RouteReply,
  type Tag,
} from './route-types.js';

export const ROUTES: readonly RouteDoc[] = [...GENERATE_ROUTES, ...ACCOUNT_ROUTES, ...SERVICE_ROUTES];
