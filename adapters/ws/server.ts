/**
 * The emit stage's WebSocket server: intents out, feedback in.
 *
 * No client can crash, stall or exhaust it: every message goes through the guarded
 * decoder (guard.ts); messages over MAX_MESSAGE_BYTES close the client with 1009;
 * each client has a message-rate budget and a cap on the bytes waiting to be sent
 * to it; client problems are logged as a summary per interval; browsers are
 * accepted only from allowed origins, and a server bound beyond loopback accepts
 * only clients that present a token.
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Intent } from '../../src/types.ts';
import { logger } from '../../src/log.ts';
import { localClock } from '../../src/util/clock.ts';
import { decodeClientMessage, MAX_MESSAGE_BYTES } from './guard.ts';
import { ProblemLog, RateLimiter } from './limits.ts';
import { isLoopbackHost, originAllowed, ownHosts } from './origin.ts';
import {
  CLOSE_POLICY, encode, PROTOCOL_VERSION, SUBPROTOCOL_JSON, SUBPROTOCOL_MSGPACK,
  type ErrorMessage, type FeedbackMessage, type HelloMessage, type ServerMessage, type StatusMessage, type WireFormat,
} from './protocol.ts';

const log = logger('ws.server');

/** Per-client limits (defaults in DEFAULT_CLIENT_LIMITS). */
export interface ClientLimits {
  /** Messages per second a client may send (token bucket rate). */
  messagesPerSecond: number;
  /** Messages a client may send in one burst. */
  burst: number;
  /** Seconds a client may stay over its rate before it is closed. */
  floodSeconds: number;
  /** Unsent bytes above which a client gets only essential messages (hello, status, intents). */
  softBufferBytes: number;
  /** Unsent bytes above which the client is disconnected at once. */
  hardBufferBytes: number;
  /** Seconds a client may stay above softBufferBytes before it is disconnected. */
  slowSeconds: number;
}

export const DEFAULT_CLIENT_LIMITS: ClientLimits = {
  messagesPerSecond: 100,
  burst: 200,
  floodSeconds: 3,
  softBufferBytes: 256 * 1024,
  hardBufferBytes: 4 * 1024 * 1024,
  slowSeconds: 10,
};

export interface IntentServerOptions {
  port?: number;
  host?: string;
  /** Called to build each connection's hello (model and streams may change). */
  hello: () => Omit<HelloMessage, 'type' | 'protocol' | 'format' | 'serverTime'>;
  /** Origins allowed besides this machine's own pages (`*` for any). */
  allowedOrigins?: string[];
  /**
   * Tokens a client may present (`?token=` in the URL or `Authorization: Bearer`).
   * Required when the server listens beyond loopback; then a client without one
   * is refused at the upgrade.
   */
  tokens?: string[];
  limits?: Partial<ClientLimits>;
  /** Seconds between summaries of client problems in the log (default 10). */
  problemLogEvery?: number;
}

interface ClientState {
  format: WireFormat;
  rate: RateLimiter;
  /** When the client went over its message rate (undefined once it kept within it for a second). */
  floodingSince: number | undefined;
  lastDrop: number;
  /** Last time a rate-limited error was sent (one per second at most). */
  lastRateError: number;
  /** When its unsent bytes went over the soft cap (undefined while under it). */
  slowSince: number | undefined;
  closing: boolean;
}

/** Counters for the health summary. */
export interface ServerStats {
  clients: number;
  connections: number;
  refused: number;
  clientProblems: number;
  closedForRate: number;
  closedForSlow: number;
  closedForSize: number;
  skippedNonEssential: number;
}

/** Emits 'feedback' (FeedbackMessage) from clients. */
export class IntentServer extends EventEmitter<{ feedback: [FeedbackMessage] }> {
  private wss: WebSocketServer | undefined;
  private readonly clients = new Map<WebSocket, ClientState>();
  private readonly limits: ClientLimits;
  private readonly problems: ProblemLog;
  private lastStatus: StatusMessage | undefined;
  private maxSeq = -1;
  private stats_: Omit<ServerStats, 'clients' | 'clientProblems'> = { connections: 0, refused: 0, closedForRate: 0, closedForSlow: 0, closedForSize: 0, skippedNonEssential: 0 };
  private hello: IntentServerOptions['hello'];

  constructor(private readonly opts: IntentServerOptions) {
    super();
    this.hello = opts.hello;
    this.limits = { ...DEFAULT_CLIENT_LIMITS, ...opts.limits };
    this.problems = new ProblemLog(opts.problemLogEvery ?? 10, (counts, total) => log.warn({ counts, total }, 'client problems in the last interval'));
  }

  /** Replace the hello builder (the session knows its decoder only after the port is bound). */
  setHello(fn: IntentServerOptions['hello']): void {
    this.hello = fn;
  }

  /** Start listening; resolves with the bound port. Rejects with a clear message when the port is taken. */
  async listen(): Promise<number> {
    const host = this.opts.host ?? '127.0.0.1';
    const port = this.opts.port ?? 8765;
    const tokens = this.opts.tokens ?? [];
    if (!isLoopbackHost(host) && tokens.length === 0) throw new Error(`listening on ${host} (beyond loopback) needs at least one client token`);
    const own = ownHosts(host);
    const wss = new WebSocketServer({
      port,
      host,
      maxPayload: MAX_MESSAGE_BYTES,
      // UTF-8 is checked by the guard, which answers with an error instead of a close.
      skipUTF8Validation: true,
      perMessageDeflate: false,
      handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL_JSON) ? SUBPROTOCOL_JSON : protocols.has(SUBPROTOCOL_MSGPACK) ? SUBPROTOCOL_MSGPACK : false),
      verifyClient: (info, done) => {
        const why = this.refusal(info.req, info.origin, own, tokens, host);
        if (why) {
          this.stats_.refused++;
          this.problems.count(why.kind);
          done(false, why.status, why.text);
        } else done(true);
      },
    });
    this.wss = wss;
    await new Promise<void>((resolve, reject) => {
      wss.once('listening', resolve);
      wss.once('error', (e: NodeJS.ErrnoException) =>
        reject(e.code === 'EADDRINUSE' ? new Error(`port ${port} on ${host} is already in use (another neurox running? choose one with --port)`) : e));
    });
    wss.on('error', (e) => log.error({ err: e.message }, 'websocket server error'));
    wss.on('connection', (ws, req) => this.onConnection(ws, req.url ?? ''));
    return (wss.address() as AddressInfo).port;
  }

  private refusal(req: IncomingMessage, origin: string | undefined, own: Set<string>, tokens: string[], host: string): { status: number; text: string; kind: string } | undefined {
    if (!originAllowed(origin, own, this.opts.allowedOrigins)) return { status: 403, text: 'origin not allowed', kind: 'refused-origin' };
    if (tokens.length > 0 && !isLoopbackHost(host)) {
      const t = tokenOf(req);
      if (!t || !tokens.some((k) => sameToken(k, t))) return { status: 401, text: 'a token is required', kind: 'refused-token' };
    }
    return undefined;
  }

  get port(): number {
    return (this.wss?.address() as AddressInfo | undefined)?.port ?? 0;
  }

  get clientCount(): number {
    return this.clients.size;
  }

  stats(): ServerStats {
    return { ...this.stats_, clients: this.clients.size, clientProblems: this.problems.seen };
  }

  private onConnection(ws: WebSocket, url: string): void {
    // Subprotocol wins; `?format=json` is accepted for clients that cannot set one.
    const format: WireFormat = ws.protocol === SUBPROTOCOL_JSON || (!ws.protocol && /[?&]format=json/.test(url)) ? 'json' : 'msgpack';
    const now = localClock();
    const st: ClientState = {
      format, rate: new RateLimiter(this.limits.messagesPerSecond, this.limits.burst, now),
      floodingSince: undefined, lastDrop: -Infinity, lastRateError: -Infinity, slowSince: undefined, closing: false,
    };
    this.clients.set(ws, st);
    this.stats_.connections++;
    log.debug({ format, clients: this.clients.size }, 'client connected');
    // ws closes an oversized message with 1009 but no reason; give it one.
    const close = ws.close.bind(ws);
    ws.close = (code?: number, reason?: string | Buffer) => {
      if (code === 1009 && reason === undefined) {
        this.stats_.closedForSize++;
        this.problems.count('closed-too-large');
        return close(code, `message exceeds the ${MAX_MESSAGE_BYTES}-byte limit`);
      }
      return close(code, reason);
    };
    this.sendTo(ws, { type: 'hello', protocol: PROTOCOL_VERSION, format, serverTime: localClock(), ...this.hello() }, true);
    if (this.lastStatus) this.sendTo(ws, this.lastStatus, true);
    ws.on('message', (data, isBinary) => this.onMessage(ws, st, data as Buffer | ArrayBuffer | Buffer[], isBinary));
    ws.on('close', () => {
      this.clients.delete(ws);
      log.debug({ clients: this.clients.size }, 'client disconnected');
    });
    // Socket errors (resets, protocol violations) are the client's problem: counted, not logged one by one.
    ws.on('error', () => this.problems.count('socket-error'));
  }

  /** One client message. Nothing in here may throw: the guard decodes, sends are checked. */
  private onMessage(ws: WebSocket, st: ClientState, data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    if (st.closing) return;
    const now = localClock();
    if (!st.rate.take(now)) {
      st.floodingSince ??= now;
      st.lastDrop = now;
      this.problems.count('rate-limited');
      if (now - st.floodingSince > this.limits.floodSeconds) {
        this.stats_.closedForRate++;
        this.disconnect(ws, st, `message rate over ${this.limits.messagesPerSecond}/s for ${this.limits.floodSeconds} s`);
        return;
      }
      if (now - st.lastRateError >= 1) {
        st.lastRateError = now;
        this.sendTo(ws, { type: 'error', code: 'rate-limited', message: `over ${this.limits.messagesPerSecond} messages/s: messages are being dropped` });
      }
      return;
    }
    // A flood lets a message through whenever a token refills: it ends only after a second without drops.
    if (now - st.lastDrop > 1) st.floodingSince = undefined;
    const m = decodeClientMessage(data, isBinary, st.format);
    if ('error' in m) {
      this.problems.count(m.error.code);
      this.sendTo(ws, m.error);
      return;
    }
    if (m.type === 'ping') this.sendTo(ws, { type: 'pong', t: m.t, serverTime: localClock() });
    else this.onFeedback(ws, m);
  }

  private onFeedback(ws: WebSocket, m: FeedbackMessage): void {
    if (m.seq < 0 || m.seq > this.maxSeq) {
      this.problems.count('unknown-seq');
      this.sendTo(ws, { type: 'error', code: 'unknown-seq', message: 'feedback.seq names no intent that was sent' } satisfies ErrorMessage);
      return;
    }
    this.sendTo(ws, { type: 'ack', of: 'feedback', seq: m.seq });
    try {
      this.emit('feedback', m);
    } catch (e) {
      log.error({ err: (e as Error).message }, 'feedback handler failed');
    }
  }

  /**
   * Send to one client, within its buffer budget: above the soft cap only
   * essential messages go out; a client that stays above it, or passes the hard
   * cap, is disconnected with the reason.
   */
  private sendTo(ws: WebSocket, m: ServerMessage, essential = false, payload?: Buffer | string): void {
    const st = this.clients.get(ws);
    if (!st || st.closing || ws.readyState !== ws.OPEN) return;
    if (!this.withinBuffer(ws, st, essential)) return;
    ws.send(payload ?? encode(m, st.format));
  }

  private withinBuffer(ws: WebSocket, st: ClientState, essential: boolean): boolean {
    const queued = ws.bufferedAmount;
    if (queued <= this.limits.softBufferBytes) {
      st.slowSince = undefined;
      return true;
    }
    const now = localClock();
    st.slowSince ??= now;
    if (queued > this.limits.hardBufferBytes || now - st.slowSince > this.limits.slowSeconds) {
      this.stats_.closedForSlow++;
      this.disconnect(ws, st, `not reading: ${queued} bytes unsent for ${(now - st.slowSince).toFixed(1)} s`);
      return false;
    }
    if (!essential) {
      this.stats_.skippedNonEssential++;
      this.problems.count('skipped-slow-client');
      return false;
    }
    return true;
  }

  /** Close with a policy code and reason; a client that does not answer the close is cut off. */
  private disconnect(ws: WebSocket, st: ClientState, reason: string): void {
    st.closing = true;
    this.problems.count('disconnected');
    log.warn({ reason }, 'client disconnected by the server');
    try {
      ws.close(CLOSE_POLICY, reason.slice(0, 120));
    } catch {
      /* the socket is already gone */
    }
    setTimeout(() => ws.terminate(), 1000).unref();
  }

  /** Broadcast an intent to every client (essential). Encodes once per wire format. */
  sendIntent(i: Intent): void {
    this.maxSeq = Math.max(this.maxSeq, i.seq);
    this.broadcast({ type: 'intent', ...i }, true);
  }

  sendStatus(s: Omit<StatusMessage, 'type'>): void {
    this.lastStatus = { type: 'status', ...s };
    this.broadcast(this.lastStatus, true);
  }

  private broadcast(m: ServerMessage, essential: boolean): void {
    const cache: Partial<Record<WireFormat, Buffer | string>> = {};
    for (const [ws, st] of this.clients) {
      if (st.closing || ws.readyState !== ws.OPEN) continue;
      this.sendTo(ws, m, essential, (cache[st.format] ??= encode(m, st.format)));
    }
  }

  async close(): Promise<void> {
    this.problems.flush();
    for (const ws of this.clients.keys()) ws.close(1001, 'server shutting down');
    await new Promise<void>((r) => (this.wss ? this.wss.close(() => r()) : r()));
    for (const ws of this.clients.keys()) ws.terminate();
  }
}

function tokenOf(req: IncomingMessage): string | undefined {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7).trim();
  const q = /[?&]token=([^&]*)/.exec(req.url ?? '');
  if (!q) return undefined;
  try {
    return decodeURIComponent(q[1]!);
  } catch {
    return undefined;
  }
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
