/**
 * A minimal Discord gateway on the fake's HTTP port (`ws://127.0.0.1:<port>/?v=10&encoding=json`):
 * HELLO, IDENTIFY → READY + one GUILD_CREATE per guild, HEARTBEAT → HEARTBEAT_ACK, and dispatches the
 * test pushes. Frames are always uncompressed JSON text: @discordjs/ws parses text frames as plain JSON
 * even when it asked for `compress=zlib-stream` or identify compression, so no client option is needed.
 * RESUME of a session this fake saw gets RESUMED without replaying missed events; any other gets
 * INVALID_SESSION (d: false), after which discord.js identifies again.
 */
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { type WebSocket, WebSocketServer } from 'ws';
import type { CallLog } from '../fake-server.js';
import type { DiscordState } from './state.js';

interface Session {
  socket: WebSocket;
  sequence: number;
  sessionId: string | null;
}

const OP = {
  dispatch: 0,
  heartbeat: 1,
  identify: 2,
  resume: 6,
  invalidSession: 9,
  hello: 10,
  heartbeatAck: 11,
};

export class FakeGateway {
  readonly #server: WebSocketServer;
  readonly #state: DiscordState;
  readonly #log: CallLog;
  readonly #sessions = new Set<Session>();
  /** Sequence numbers of sessions whose socket closed, for RESUME. */
  readonly #ended = new Map<string, number>();
  #waiters: (() => void)[] = [];

  constructor(state: DiscordState, log: CallLog) {
    this.#state = state;
    this.#log = log;
    this.#server = new WebSocketServer({ noServer: true });
  }

  /** Takes over WebSocket upgrades to `/` on the fake's HTTP server. */
  attach(server: Server): void {
    server.on('upgrade', (request, socket, head) => {
      if (new URL(request.url ?? '/', 'ws://fake').pathname !== '/') {
        socket.destroy();
        return;
      }
      this.#server.handleUpgrade(request, socket, head, (ws) => this.#accept(ws, request.url ?? '/'));
    });
  }

  /** Sends a dispatch (op 0) to every identified session; returns how many got it. */
  dispatch(event: string, data: unknown): number {
    let sent = 0;
    for (const session of this.#sessions) {
      if (!session.sessionId) continue;
      this.#dispatchTo(session, event, data);
      sent++;
    }
    return sent;
  }

  /** How many connections have identified (or resumed). */
  get sessions(): number {
    return [...this.#sessions].filter((session) => session.sessionId).length;
  }

  /** Resolves once a session is identified; rejects after `timeoutMs`. */
  waitForSession(timeoutMs: number): Promise<void> {
    if (this.sessions > 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((waiter) => waiter !== done);
        reject(new Error(`no bot identified on the fake gateway within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.#waiters.push(done);
    });
  }

  async close(): Promise<void> {
    for (const session of this.#sessions) session.socket.terminate();
    this.#sessions.clear();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(socket: WebSocket, url: string): void {
    const query = Object.fromEntries(new URL(url, 'ws://fake').searchParams);
    this.#log.record('GATEWAY connect', query);
    if (query.v !== undefined && query.v !== '10') {
      socket.close(4012, 'Invalid API version');
      return;
    }
    if (query.encoding !== undefined && query.encoding !== 'json') {
      socket.close(4002, 'Only JSON encoding is faked');
      return;
    }
    const session: Session = { socket, sequence: 0, sessionId: null };
    this.#sessions.add(session);
    socket.on('close', () => {
      this.#sessions.delete(session);
      if (session.sessionId) this.#ended.set(session.sessionId, session.sequence);
    });
    socket.on('message', (raw) => this.#receive(session, String(raw)));
    this.#send(session, {
      op: OP.hello,
      t: null,
      s: null,
      d: { heartbeat_interval: this.#state.options.heartbeatIntervalMs },
    });
  }

  #receive(session: Session, raw: string): void {
    let packet: { op?: unknown; d?: unknown };
    try {
      packet = JSON.parse(raw);
    } catch {
      session.socket.close(4002, 'Error while decoding payload.');
      return;
    }
    const data = (packet.d ?? {}) as Record<string, unknown>;
    switch (packet.op) {
      case OP.heartbeat:
        this.#log.record('GATEWAY HEARTBEAT', { d: packet.d });
        this.#send(session, { op: OP.heartbeatAck, t: null, s: null, d: null });
        return;
      case OP.identify:
        this.#log.record('GATEWAY IDENTIFY', data);
        this.#identify(session, data);
        return;
      case OP.resume:
        this.#log.record('GATEWAY RESUME', data);
        this.#resume(session, data);
        return;
      default:
        this.#log.record(`GATEWAY op ${String(packet.op)}`, data);
    }
  }

  #identify(session: Session, data: Record<string, unknown>): void {
    if (session.sessionId) {
      session.socket.close(4005, 'Already authenticated.');
      return;
    }
    const { token } = this.#state.options;
    if (token !== undefined && data.token !== token) {
      session.socket.close(4004, 'Authentication failed.');
      return;
    }
    session.sessionId = randomBytes(16).toString('hex');
    const state = this.#state;
    this.#dispatchTo(session, 'READY', {
      v: 10,
      user: { ...state.apiUser(state.bot), verified: true, mfa_enabled: false, flags: 0 },
      guilds: [...state.guilds.keys()].map((id) => ({ id, unavailable: true })),
      session_id: session.sessionId,
      session_type: 'normal',
      resume_gateway_url: state.url.replace(/^http/, 'ws'),
      shard: Array.isArray(data.shard) ? data.shard : [0, 1],
      application: { id: state.applicationId, flags: 0 },
      private_channels: [],
      presences: [],
      relationships: [],
      guild_join_requests: [],
      geo_ordered_rtc_regions: [],
      user_settings: {},
      _trace: ['fake-discord'],
    });
    for (const id of state.guilds.keys()) this.#dispatchTo(session, 'GUILD_CREATE', state.apiGuild(id, true));
    this.#identified();
  }

  #resume(session: Session, data: Record<string, unknown>): void {
    const id = typeof data.session_id === 'string' ? data.session_id : '';
    const sequence = this.#ended.get(id);
    if (sequence === undefined) {
      this.#send(session, { op: OP.invalidSession, t: null, s: null, d: false });
      return;
    }
    this.#ended.delete(id);
    session.sessionId = id;
    session.sequence = sequence;
    this.#dispatchTo(session, 'RESUMED', {});
    this.#identified();
  }

  #identified(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter();
  }

  #dispatchTo(session: Session, event: string, data: unknown): void {
    this.#send(session, { op: OP.dispatch, t: event, s: ++session.sequence, d: data });
  }

  #send(session: Session, packet: unknown): void {
    if (session.socket.readyState === session.socket.OPEN) session.socket.send(JSON.stringify(packet));
  }
}
