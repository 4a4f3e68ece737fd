/** What each request carries through the middleware chain (Hono's `c.var`). */
export interface ServerVariables {
  /** A short id for the log lines of one request. */
  requestId: string;
  /**
   * The peer's address (the TCP peer, or `X-Forwarded-For`'s first hop when `trustProxy` is on), computed
   * on first use: read it with `clientIp(c)`.
   */
  clientIp: string | undefined;
  trustProxy: boolean;
  /** `Client-Agent` (or `client_agent`), `unknown:0:unknown` when absent. */
  clientAgent: string;
}

export interface ServerEnv {
  Variables: ServerVariables;
}
