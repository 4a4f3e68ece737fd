/** What `bench/http.ts` and its server process (`server.ts`) share: messages, accounts and request bodies. */

export const REGEN = 'AI Horde Worker reGen:10.1.1:https://github.com/Haidra-Org/horde-worker-reGen';
export const CLIENT_AGENT = 'hordekit-bench:0.1.0:(bench/http.ts)';
/** Accounts owning the idle workers (and, for the other scenarios, the working ones). */
export const IDLE_OWNERS = 10;
/** What the 100,000 waiting requests ask for; the idle workers serve only `stable_diffusion`. */
export const IDLE_REQUEST_MODEL = 'Deliberate';
/** A 1×1 WebP: what the simulated workers upload. */
export const TINY_WEBP = Buffer.from(
  'UklGRiQAAABXRUJQVlA4IBgAAAAwAQCdASoBAAEAAQAcJaQAA3AA/v3AgAA=',
  'base64',
);

export interface ServerReady {
  type: 'ready';
  port: number;
  keys: { requester: string; owners: string[] };
  /** Time spent filling the queue before listening, seconds. */
  fillSeconds: number;
}

export interface ServerReport {
  type: 'report';
  /** Image requests still waiting at the end. */
  queued: number;
  /** balances + escrow = minted − burnt */
  ledgerBalances: boolean;
  rssMb: number;
  /** CPU time of the whole server process (every thread) since the last `mark`, ms. */
  cpuMs: number;
  /** The kernel's share of `cpuMs` (system time: socket writes, SQLite's file writes). */
  systemMs: number;
  /** write(2)/writev(2) calls since the last `mark` (`/proc/self/io`, where Linux provides it): socket writes and file writes. */
  writeSyscalls?: number;
  /** Share of the time since the last `mark` that the event loop was busy (`performance.eventLoopUtilization`). */
  eventLoopBusy?: number;
  /**
   * The main (JavaScript) thread alone since the last `mark`, from `/proc/self/task/<pid>/schedstat` where
   * Linux provides it: time running on a core, and time ready to run but waiting for one, ms.
   */
  mainThread?: { runningMs: number; waitingMs: number };
  /** Wall time since the last `mark`, ms. */
  sinceMarkMs?: number;
}

/** Sent after `mark`: the CPU baseline of the measurement is taken. */
export interface ServerMarked {
  type: 'marked';
}

/** A client's image request: 512×512, 20 steps, one model. */
export function imageRequest(prompt: string, model = 'stable_diffusion') {
  return {
    prompt,
    nsfw: false,
    models: [model],
    params: { width: 512, height: 512, steps: 20, sampler_name: 'k_euler_a', cfg_scale: 7, n: 1 },
  };
}

/** A reGen worker's pop. */
export function popBody(name: string, models = ['stable_diffusion']) {
  return { name, models, bridge_agent: REGEN, amount: 1, nsfw: false, threads: 1, max_pixels: 1024 * 1024 };
}
