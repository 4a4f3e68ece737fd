/** What each request carries through the middleware chain (Hono's `c.var`). */
import type { Logger } from 'pino';

export interface ServerVariables {
  /** A short id for the log lines of one request. */
  requestId: string;
  /** The peer's address (the TCP peer, or `X-Forwarded-For`'s first hop when `trustProxy` is on). */
  clientIp: string;
  /** `Client-Agent` (or `client_agent`), `unknown:0:unknown` when absent. */
  clientAgent: string;
  logger: Logger;
}

export interface ServerEnv {
  Variables: ServerVariables;
}
