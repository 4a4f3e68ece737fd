/**
 * Slack's Socket Mode side: `apps.connections.open` hands out `ws://…/socket?ticket=…` on the fake's own
 * port; a connection gets `{ type: 'hello' }`, then envelopes `{ envelope_id, type, payload,
 * accepts_response_payload }`, and the app answers each with `{ envelope_id, payload }` (its `ack()`).
 * Pings from @slack/socket-mode are answered with pongs by `ws` itself.
 */
import type { IncomingMessage, Server } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import type { CallLog } from '../fake-server.js';
import type { SocketAck } from './types.js';

export type EnvelopeType = 'slash_commands' | 'interactive' | 'events_api';

interface PendingAck {
  resolve(ack: SocketAck): void;
  reject(error: Error): void;
  sentAt: number;
  timer: NodeJS.Timeout;
}

export class FakeSocketMode {
  readonly #server = new WebSocketServer({ noServer: true });
  readonly #tickets = new Set<string>();
  readonly #sockets = new Set<WebSocket>();
  readonly #pending = new Map<string, PendingAck>();
  readonly #connectWaiters: (() => void)[] = [];
  #sequence = 0;

  constructor(
    readonly appId: string,
    readonly log: CallLog,
  ) {}

  /** Serves `/socket` upgrades on the fake's HTTP server. */
  attach(server: Server): void {
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      const url = new URL(request.url ?? '/', 'http://fake');
      const ticket = url.searchParams.get('ticket') ?? '';
      if (url.pathname !== '/socket' || !this.#tickets.delete(ticket)) {
        socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      this.#server.handleUpgrade(request, socket, head, (ws) => this.#accept(ws));
    });
  }

  /** A one-use connection URL, as `apps.connections.open` returns. */
  issueUrl(baseUrl: string): string {
    this.#sequence += 1;
    const ticket = `ticket-${this.#sequence}-${Math.random().toString(36).slice(2, 10)}`;
    this.#tickets.add(ticket);
    return `${baseUrl.replace(/^http/, 'ws')}/socket?ticket=${ticket}&app_id=${this.appId}`;
  }

  get connections(): number {
    return this.#sockets.size;
  }

  /** Resolves once an app holds an open connection. */
  connected(timeoutMs = 5000): Promise<void> {
    if (this.#sockets.size > 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no Socket Mode connection within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.#connectWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Pushes an envelope to the newest connection and resolves with the app's ack. */
  send(type: EnvelopeType, payload: Record<string, unknown>, timeoutMs = 5000): Promise<SocketAck> {
    const socket = [...this.#sockets].pop();
    if (!socket) return Promise.reject(new Error('no Socket Mode connection: start the app first'));
    this.#sequence += 1;
    const envelopeId = `envelope-${this.#sequence}-${Math.random().toString(36).slice(2, 10)}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(envelopeId);
        reject(new Error(`no ack for ${type} envelope within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(envelopeId, { resolve, reject, sentAt: performance.now(), timer });
      socket.send(JSON.stringify({ envelope_id: envelopeId, type, payload, accepts_response_payload: true }));
    });
  }

  async close(): Promise<void> {
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(new Error('fake Slack closed'));
    }
    this.#pending.clear();
    await Promise.all([...this.#sockets].map((socket) => closeGracefully(socket)));
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(ws: WebSocket): void {
    this.#sockets.add(ws);
    ws.on('close', () => this.#sockets.delete(ws));
    ws.on('error', () => this.#sockets.delete(ws));
    ws.on('message', (data) => this.#onMessage(data.toString()));
    ws.send(
      JSON.stringify({
        type: 'hello',
        num_connections: this.#sockets.size,
        debug_info: { host: 'fake-slack', approximate_connection_time: 3600 },
        connection_info: { app_id: this.appId },
      }),
    );
    for (const waiter of this.#connectWaiters.splice(0)) waiter();
  }

  #onMessage(text: string): void {
    let message: { envelope_id?: unknown; payload?: unknown };
    try {
      message = JSON.parse(text) as typeof message;
    } catch {
      return;
    }
    this.log.record('socket ack', message as Record<string, unknown>);
    const envelopeId = String(message.envelope_id);
    const pending = this.#pending.get(envelopeId);
    if (!pending) return;
    this.#pending.delete(envelopeId);
    clearTimeout(pending.timer);
    const ack: SocketAck = { envelope_id: envelopeId, ackMs: performance.now() - pending.sentAt };
    if (typeof message.payload === 'object' && message.payload !== null) {
      ack.payload = message.payload as Record<string, unknown>;
    }
    pending.resolve(ack);
  }
}

/**
 * Completes the close handshake (the app's own `stop()` may have started it) before dropping the socket:
 * terminating mid-handshake makes @slack/socket-mode log a WebSocket error.
 */
function closeGracefully(socket: WebSocket, timeoutMs = 1000): Promise<void> {
  if (socket.readyState === socket.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      socket.terminate();
      resolve();
    }, timeoutMs);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    if (socket.readyState === socket.OPEN) socket.close(1001, 'fake Slack closed');
  });
}
