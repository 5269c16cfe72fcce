/**
 * The emit stage's server: intents and the v1.1 topics out over WebSocket,
 * feedback and control in, and on the same port the HTTP endpoints `/healthz`,
 * `/readyz`, `/metrics` (Prometheus) and whatever pages the caller mounts (the
 * dashboard).
 *
 * No client can crash, stall or exhaust it: every message goes through the guarded
 * decoder (guard.ts); messages over MAX_MESSAGE_BYTES close the client with 1009;
 * each client has a message-rate budget and a cap on the bytes waiting to be sent
 * to it; client problems are logged as a summary per interval; browsers are
 * accepted only from allowed origins, and a server bound beyond loopback accepts
 * only clients that present a token. Tokens carry a role; feedback and control
 * are refused, with an error naming the role, to a connection without it.
 *
 * A slow client never slows the others: decimated topics are queued per client
 * and drop their oldest messages first; intents are withheld from a client whose
 * unsent bytes are over the soft cap, and once it catches up it gets one `gap`
 * notice with the missed `seq` range and the latest intent and status.
 */
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Intent } from '../../src/types.ts';
import { logger } from '../../src/log.ts';
import { localClock } from '../../src/util/clock.ts';
import { decodeClientMessage, MAX_MESSAGE_BYTES } from './guard.ts';
import { ProblemLog, RateLimiter } from './limits.ts';
import { ServerMetrics } from './metrics.ts';
import { isLoopbackHost, originAllowed, ownHosts } from './origin.ts';
import { SignalBuffer } from './signal.ts';
import {
  CLOSE_POLICY, CONTROL_ROLES, DECIMATED_TOPICS, encode, FEEDBACK_ROLE, PROTOCOL_MINOR, PROTOCOL_VERSION, roleAllows, ROLES,
  SUBPROTOCOL_JSON, SUBPROTOCOL_MSGPACK, TOPICS,
  type ControlMessage, type ErrorMessage, type EventMessage, type FeedbackMessage, type HealthMessage, type HelloMessage,
  type IntentMessage, type Role, type ServerMessage, type StatusMessage, type Topic, type WireFormat,
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
  /** Unsent bytes above which a client gets only essential messages (hello, status, events, errors) and intents are withheld (a gap). */
  softBufferBytes: number;
  /** Unsent bytes above which the client is disconnected at once. */
  hardBufferBytes: number;
  /** Seconds a client may stay above softBufferBytes before it is disconnected. */
  slowSeconds: number;
  /** Decimated-topic messages kept per client while it is behind; beyond it the oldest are dropped. */
  queuedMessages: number;
}

export const DEFAULT_CLIENT_LIMITS: ClientLimits = {
  messagesPerSecond: 100,
  burst: 200,
  floodSeconds: 3,
  softBufferBytes: 256 * 1024,
  hardBufferBytes: 4 * 1024 * 1024,
  slowSeconds: 120,
  queuedMessages: 32,
};

/** A client token and the role it grants. */
export interface RoleToken {
  token: string;
  role: Role;
}

/** Parse `role:token` (a bare token is an operator's, as v1 tokens could send feedback). */
export function parseToken(s: string): RoleToken {
  const m = /^(observer|operator|clinician):(.+)$/.exec(s.trim());
  return m ? { role: m[1] as Role, token: m[2]! } : { role: 'operator', token: s.trim() };
}

/** What the session does for a control message; throws (with a reason for the client) when it cannot. */
export type ControlHandler = (m: ControlMessage, role: Role) => void | Promise<void>;

/** An extra HTTP route: returns true when it answered the request. */
export type HttpRoute = (req: IncomingMessage, res: ServerResponse, url: URL) => boolean | Promise<boolean>;

export interface IntentServerOptions {
  port?: number;
  host?: string;
  /** Called to build each connection's hello (model and streams may change). */
  hello: () => Omit<HelloMessage, 'type' | 'protocol' | 'format' | 'serverTime'>;
  /** Origins allowed besides this machine's own pages (`*` for any). */
  allowedOrigins?: string[];
  /**
   * Tokens a client may present (`?token=` in the URL or `Authorization: Bearer`):
   * `role:token` strings (a bare token is an operator's) or RoleTokens. Required
   * when the server listens beyond loopback; then a client without one is
   * refused at the upgrade. A token that matches none is refused everywhere.
   */
  tokens?: (string | RoleToken)[];
  /**
   * Role of a loopback client that presents no token: `observer` by default
   * (read-only topics and feedback, as in v1), or `none` for read-only topics only.
   */
  loopbackRole?: Role | 'none';
  limits?: Partial<ClientLimits>;
  /** Seconds between summaries of client problems in the log (default 10). */
  problemLogEvery?: number;
  /** HTTP routes tried before the built-in ones (the dashboard). */
  routes?: HttpRoute[];
}

interface ClientState {
  format: WireFormat;
  role: Role | undefined;
  rate: RateLimiter;
  /** When the client went over its message rate (undefined once it kept within it for a second). */
  floodingSince: number | undefined;
  lastDrop: number;
  /** Last time a rate-limited error was sent (one per second at most). */
  lastRateError: number;
  /** When its unsent bytes went over the soft cap (undefined while under it). */
  slowSince: number | undefined;
  closing: boolean;
  topics: Set<Topic>;
  /** Messages per second for decimated topics. */
  topicRate: number;
  lastSent: Partial<Record<Topic, number>>;
  channels: number[] | undefined;
  stream: string | undefined;
  /** Next signal sample this client reads (absolute index in the SignalBuffer). */
  signalCursor: number | undefined;
  /** Decimated messages waiting while the client is behind, oldest first. */
  queue: { topic: Topic; payload: Uint8Array | string }[];
  /** Intents withheld while behind: the first and last seq (undefined when none). */
  missedFrom: number | undefined;
  missedTo: number;
  dropped: number;
  missedIntents: number;
  gaps: number;
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
  dropped: number;
  gaps: number;
  missedIntents: number;
}

/** Default messages per second for decimated topics when a subscribe names no rate. */
const DEFAULT_TOPIC_RATE = 10;
/** How often queued messages, signal reads and gap notices are considered (ms). */
const PUMP_MS = 25;

/** Emits 'feedback' (FeedbackMessage) from clients. */
export class IntentServer extends EventEmitter<{ feedback: [FeedbackMessage] }> {
  private http: Server | undefined;
  private wss: WebSocketServer | undefined;
  private readonly clients = new Map<WebSocket, ClientState>();
  private readonly limits: ClientLimits;
  private readonly problems: ProblemLog;
  private readonly tokens: RoleToken[];
  private lastStatus: StatusMessage | undefined;
  private lastIntent: IntentMessage | undefined;
  private maxSeq = -1;
  private stats_ = { connections: 0, refused: 0, closedForRate: 0, closedForSlow: 0, closedForSize: 0, skippedNonEssential: 0, dropped: 0, gaps: 0, missedIntents: 0 };
  private hello: IntentServerOptions['hello'];
  private control: ControlHandler | undefined;
  private pump: NodeJS.Timeout | undefined;
  private readonly startedAt = localClock();
  /** Prometheus metrics served at /metrics. */
  readonly metrics = new ServerMetrics();
  /** Decimated signal for the `signal` and `features` topics (fed by the session). */
  readonly signal = new SignalBuffer();

  constructor(private readonly opts: IntentServerOptions) {
    super();
    this.hello = opts.hello;
    this.limits = { ...DEFAULT_CLIENT_LIMITS, ...opts.limits };
    this.tokens = (opts.tokens ?? []).map((t) => (typeof t === 'string' ? parseToken(t) : t));
    this.problems = new ProblemLog(opts.problemLogEvery ?? 10, (counts, total) => log.warn({ counts, total }, 'client problems in the last interval'));
  }

  /** Replace the hello builder (the session knows its decoder only after the port is bound). */
  setHello(fn: IntentServerOptions['hello']): void {
    this.hello = fn;
  }

  /** Set what control messages do (the session); without one, controls are answered `unavailable`. */
  setControl(fn: ControlHandler | undefined): void {
    this.control = fn;
  }

  /** Add an HTTP route (tried before the built-in ones). */
  addRoute(r: HttpRoute): void {
    (this.opts.routes ??= []).push(r);
  }

  /** Start listening; resolves with the bound port. Rejects with a clear message when the port is taken. */
  async listen(): Promise<number> {
    const host = this.opts.host ?? '127.0.0.1';
    const port = this.opts.port ?? 8765;
    if (!isLoopbackHost(host) && this.tokens.length === 0) throw new Error(`listening on ${host} (beyond loopback) needs at least one client token`);
    const own = ownHosts(host);
    const http = createServer((req, res) => void this.onHttp(req, res));
    this.http = http;
    const wss = new WebSocketServer({
      server: http,
      maxPayload: MAX_MESSAGE_BYTES,
      // UTF-8 is checked by the guard, which answers with an error instead of a close.
      skipUTF8Validation: true,
      perMessageDeflate: false,
      handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL_JSON) ? SUBPROTOCOL_JSON : protocols.has(SUBPROTOCOL_MSGPACK) ? SUBPROTOCOL_MSGPACK : false),
      verifyClient: (info, done) => {
        const why = this.refusal(info.req, info.origin, own, host);
        if (why) {
          this.stats_.refused++;
          this.metrics.refused.inc({ reason: why.kind });
          this.problems.count(why.kind);
          done(false, why.status, why.text);
        } else done(true);
      },
    });
    this.wss = wss;
    // ws re-emits the http server's errors (EADDRINUSE too): listen before they can happen.
    wss.on('error', (e) => log.debug({ err: e.message }, 'websocket server error'));
    await new Promise<void>((resolve, reject) => {
      http.once('listening', resolve);
      http.once('error', (e: NodeJS.ErrnoException) =>
        reject(e.code === 'EADDRINUSE' ? new Error(`port ${port} on ${host} is already in use (another neurox running? choose one with --port)`) : e));
      http.listen(port, host);
    });
    http.on('error', (e) => log.error({ err: e.message }, 'http server error'));
    wss.on('connection', (ws, req) => this.onConnection(ws, req));
    this.pump = setInterval(() => this.pumpAll(), PUMP_MS);
    this.pump.unref();
    return (http.address() as AddressInfo).port;
  }

  private refusal(req: IncomingMessage, origin: string | undefined, own: Set<string>, host: string): { status: number; text: string; kind: string } | undefined {
    if (!originAllowed(origin, own, this.opts.allowedOrigins)) return { status: 403, text: 'origin not allowed', kind: 'refused-origin' };
    // A client that asks only for neurox subprotocols none of which this server speaks has another major version.
    const offered = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim()).filter(Boolean);
    if (offered.some((p) => p.startsWith('neurox.')) && !offered.includes(SUBPROTOCOL_JSON) && !offered.includes(SUBPROTOCOL_MSGPACK))
      return { status: 400, text: `unsupported protocol version: this server speaks ${SUBPROTOCOL_MSGPACK} and ${SUBPROTOCOL_JSON}`, kind: 'refused-version' };
    const t = tokenOf(req);
    if (t !== undefined && !this.roleOf(t)) return { status: 401, text: 'unknown token', kind: 'refused-token' };
    if (t === undefined && !isLoopbackHost(host)) return { status: 401, text: 'a token is required', kind: 'refused-token' };
    return undefined;
  }

  private roleOf(t: string): Role | undefined {
    let best: Role | undefined;
    // Every token is compared (no early exit) so timing does not tell which one matched.
    for (const k of this.tokens) if (sameToken(k.token, t) && (!best || ROLES.indexOf(k.role) > ROLES.indexOf(best))) best = k.role;
    return best;
  }

  private async onHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      res.setHeader('X-Content-Type-Options', 'nosniff');
      res.setHeader('Cache-Control', 'no-store');
      if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      for (const r of this.opts.routes ?? []) if (await r(req, res, url)) return;
      if (url.pathname === '/healthz' || url.pathname === '/readyz') {
        const state = this.lastStatus?.state ?? 'waiting-for-streams';
        const ready = state === 'running';
        const body = JSON.stringify({ live: true, ready, state, clients: this.clients.size, uptimeS: +(localClock() - this.startedAt).toFixed(1) });
        // Liveness answers 200 while the process serves; readiness 503 until intents flow.
        res.writeHead(url.pathname === '/readyz' && !ready ? 503 : 200, { 'Content-Type': 'application/json' }).end(body);
        return;
      }
      if (url.pathname === '/metrics') {
        this.metrics.clients.set(this.clients.size);
        const text = await this.metrics.text();
        res.writeHead(200, { 'Content-Type': this.metrics.contentType }).end(text);
        return;
      }
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
    } catch (e) {
      log.error({ err: (e as Error).message }, 'http request failed');
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    }
  }

  get port(): number {
    return (this.http?.address() as AddressInfo | undefined)?.port ?? 0;
  }

  get clientCount(): number {
    return this.clients.size;
  }

  stats(): ServerStats {
    return { ...this.stats_, clients: this.clients.size, clientProblems: this.problems.seen };
  }

  private onConnection(ws: WebSocket, req: IncomingMessage): void {
    const url = req.url ?? '';
    // Subprotocol wins; `?format=json` is accepted for clients that cannot set one.
    const format: WireFormat = ws.protocol === SUBPROTOCOL_JSON || (!ws.protocol && /[?&]format=json/.test(url)) ? 'json' : 'msgpack';
    const t = tokenOf(req);
    const loopbackRole = this.opts.loopbackRole ?? 'observer';
    const role = t !== undefined ? this.roleOf(t) : loopbackRole === 'none' ? undefined : loopbackRole;
    const now = localClock();
    const st: ClientState = {
      format, role, rate: new RateLimiter(this.limits.messagesPerSecond, this.limits.burst, now),
      floodingSince: undefined, lastDrop: -Infinity, lastRateError: -Infinity, slowSince: undefined, closing: false,
      topics: new Set(['intents', 'status']), topicRate: DEFAULT_TOPIC_RATE, lastSent: {}, channels: undefined, stream: undefined, signalCursor: undefined,
      queue: [], missedFrom: undefined, missedTo: -1, dropped: 0, missedIntents: 0, gaps: 0,
    };
    this.clients.set(ws, st);
    this.stats_.connections++;
    this.metrics.connections.inc();
    this.metrics.clients.set(this.clients.size);
    log.debug({ format, role, clients: this.clients.size }, 'client connected');
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
    this.sendTo(ws, {
      type: 'hello', protocol: PROTOCOL_VERSION, version: `${PROTOCOL_VERSION}.${PROTOCOL_MINOR}`, format, serverTime: localClock(), ...this.hello(),
      ...(role ? { role } : {}), topics: [...TOPICS], subscribed: [...st.topics], controls: { ...CONTROL_ROLES, feedback: FEEDBACK_ROLE },
      limits: { maxMessageBytes: MAX_MESSAGE_BYTES, messagesPerSecond: this.limits.messagesPerSecond },
    }, true);
    if (this.lastStatus) this.sendTo(ws, this.lastStatus, true);
    ws.on('message', (data, isBinary) => this.onMessage(ws, st, data as Buffer | ArrayBuffer | Buffer[], isBinary));
    ws.on('close', () => {
      this.clients.delete(ws);
      this.metrics.clients.set(this.clients.size);
      if (st.dropped || st.missedIntents) log.info({ dropped: st.dropped, missedIntents: st.missedIntents, gaps: st.gaps }, 'slow client left');
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
        this.sendError(ws, { type: 'error', code: 'rate-limited', message: `over ${this.limits.messagesPerSecond} messages/s: messages are being dropped` });
      }
      return;
    }
    // A flood lets a message through whenever a token refills: it ends only after a second without drops.
    if (now - st.lastDrop > 1) st.floodingSince = undefined;
    const m = decodeClientMessage(data, isBinary, st.format);
    if ('error' in m) {
      this.problems.count(m.error.code);
      this.sendError(ws, m.error);
      return;
    }
    switch (m.type) {
      case 'ping':
        this.sendTo(ws, { type: 'pong', t: m.t, serverTime: localClock() });
        this.metrics.feedbackRtt.observe(localClock() - now);
        return;
      case 'feedback':
        if (!this.authorized(ws, st, FEEDBACK_ROLE, 'feedback')) return;
        this.onFeedback(ws, m);
        return;
      case 'subscribe': {
        for (const t of m.topics) st.topics.add(t);
        if (m.rate !== undefined) st.topicRate = m.rate;
        if (m.channels !== undefined) st.channels = m.channels;
        if (m.stream !== undefined) (st.stream = m.stream), (st.signalCursor = undefined);
        this.sendTo(ws, { type: 'ack', of: 'subscribe', subscribed: [...st.topics], rate: st.topicRate }, true);
        return;
      }
      case 'unsubscribe':
        for (const t of m.topics) st.topics.delete(t);
        if (!st.topics.has('signal')) st.signalCursor = undefined;
        this.sendTo(ws, { type: 'ack', of: 'unsubscribe', subscribed: [...st.topics] }, true);
        return;
      case 'control':
        if (!this.authorized(ws, st, CONTROL_ROLES[m.action], 'control', m.id)) {
          this.metrics.controls.inc({ action: m.action, result: 'unauthorized' });
          return;
        }
        void this.onControl(ws, st, m);
        return;
    }
  }

  private authorized(ws: WebSocket, st: ClientState, needs: Role, of: string, id?: string): boolean {
    if (roleAllows(st.role, needs)) return true;
    this.problems.count('unauthorized');
    this.sendError(ws, {
      type: 'error', code: 'unauthorized', needs, of, ...(id !== undefined ? { id } : {}),
      message: `${of} needs a token with role ${needs} or above${st.role ? ` (this connection is ${st.role})` : ' (this connection has none)'}`,
    });
    return false;
  }

  private async onControl(ws: WebSocket, st: ClientState, m: ControlMessage): Promise<void> {
    const id = m.id !== undefined ? { id: m.id } : {};
    if (!this.control) {
      this.metrics.controls.inc({ action: m.action, result: 'unavailable' });
      this.sendError(ws, { type: 'error', code: 'unavailable', of: 'control', ...id, message: `${m.action} is not available in this session` });
      return;
    }
    try {
      await this.control(m, st.role!);
      this.metrics.controls.inc({ action: m.action, result: 'ok' });
      log.info({ action: m.action, role: st.role }, 'control');
      this.sendTo(ws, { type: 'ack', of: 'control', action: m.action, ...id }, true);
    } catch (e) {
      this.metrics.controls.inc({ action: m.action, result: 'unavailable' });
      // The handler's reason is ours (not the client's value), so it may be shown.
      this.sendError(ws, { type: 'error', code: 'unavailable', of: 'control', ...id, message: `${m.action}: ${String((e as Error).message).slice(0, 160)}` });
    }
  }

  private onFeedback(ws: WebSocket, m: FeedbackMessage): void {
    if (m.seq < 0 || m.seq > this.maxSeq) {
      this.problems.count('unknown-seq');
      this.sendError(ws, { type: 'error', code: 'unknown-seq', message: 'feedback.seq names no intent that was sent' } satisfies ErrorMessage);
      return;
    }
    this.sendTo(ws, { type: 'ack', of: 'feedback', seq: m.seq });
    this.metrics.feedback.inc();
    try {
      this.emit('feedback', m);
    } catch (e) {
      log.error({ err: (e as Error).message }, 'feedback handler failed');
    }
  }

  private sendError(ws: WebSocket, e: ErrorMessage): void {
    this.metrics.errors.inc({ code: e.code });
    this.sendTo(ws, e);
  }

  /**
   * Send to one client, within its buffer budget: above the soft cap only
   * essential messages go out; a client that stays above it, or passes the hard
   * cap, is disconnected with the reason.
   */
  private sendTo(ws: WebSocket, m: ServerMessage, essential = false, payload?: Uint8Array | string): boolean {
    const st = this.clients.get(ws);
    if (!st || st.closing || ws.readyState !== ws.OPEN) return false;
    if (!this.withinBuffer(ws, st, essential)) return false;
    ws.send(payload ?? encode(m, st.format));
    return true;
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
    log.warn({ reason, dropped: st.dropped, missedIntents: st.missedIntents }, 'client disconnected by the server');
    try {
      ws.close(CLOSE_POLICY, reason.slice(0, 120));
    } catch {
      /* the socket is already gone */
    }
    setTimeout(() => ws.terminate(), 1000).unref();
  }

  /** Whether a client is behind: its unsent bytes are over the soft cap. */
  private behind(ws: WebSocket): boolean {
    return ws.bufferedAmount > this.limits.softBufferBytes;
  }

  /**
   * Broadcast an intent to every client subscribed to intents. A client that is
   * behind does not get it: the seq joins its gap, reported once it catches up.
   */
  sendIntent(i: Intent): void {
    this.maxSeq = Math.max(this.maxSeq, i.seq);
    const m: IntentMessage = { type: 'intent', ...i };
    this.lastIntent = m;
    this.metrics.intents.inc();
    this.metrics.latency.observe(i.latencyMs / 1000);
    const cache: Partial<Record<WireFormat, Uint8Array | string>> = {};
    for (const [ws, st] of this.clients) {
      if (st.closing || ws.readyState !== ws.OPEN || !st.topics.has('intents')) continue;
      if (st.missedFrom !== undefined || this.behind(ws)) {
        st.missedFrom ??= i.seq;
        st.missedTo = i.seq;
        st.missedIntents++;
        this.stats_.missedIntents++;
        this.metrics.missed.inc();
        // Keeps the slow-client clock running (disconnect after slowSeconds).
        this.withinBuffer(ws, st, true);
        continue;
      }
      if (this.sendTo(ws, m, true, (cache[st.format] ??= encode(m, st.format)))) this.metrics.intentsSent.inc();
    }
  }

  sendStatus(s: Omit<StatusMessage, 'type'>): void {
    this.lastStatus = { type: 'status', ...s };
    this.broadcast(this.lastStatus, 'status');
  }

  /** An event (calibration, adaptation, safety, recording) to clients subscribed to `event`. */
  sendEvent(e: Omit<EventMessage, 'type' | 't'> & { t?: number }): void {
    this.broadcast({ type: 'event', t: e.t ?? localClock(), ...e } as EventMessage, 'event');
  }

  /**
   * Health to clients subscribed to `health`, at each one's rate, with its own
   * drop and gap counts added.
   */
  sendHealth(h: Omit<HealthMessage, 'type' | 'client' | 'clients'>): void {
    const now = localClock();
    for (const [ws, st] of this.clients) {
      if (!st.topics.has('health') || st.closing || !this.due(st, 'health', now)) continue;
      const m: HealthMessage = { type: 'health', ...h, clients: this.clients.size, client: { dropped: st.dropped, missedIntents: st.missedIntents, gaps: st.gaps } };
      this.enqueue(ws, st, 'health', encode(m, st.format));
    }
  }

  private due(st: ClientState, topic: Topic, now: number): boolean {
    const last = st.lastSent[topic];
    // A little slack so a 10/s subscription is not rounded down to 5/s by timer jitter.
    if (last !== undefined && now - last < 0.9 / st.topicRate) return false;
    st.lastSent[topic] = now;
    return true;
  }

  /** Queue a decimated-topic message; a full queue drops its oldest. */
  private enqueue(ws: WebSocket, st: ClientState, topic: Topic, payload: Uint8Array | string): void {
    st.queue.push({ topic, payload });
    while (st.queue.length > this.limits.queuedMessages) {
      const old = st.queue.shift()!;
      st.dropped++;
      this.stats_.dropped++;
      this.metrics.dropped.inc({ topic: old.topic });
      this.problems.count('dropped-slow-client');
    }
    this.flush(ws, st);
  }

  private flush(ws: WebSocket, st: ClientState): void {
    if (st.closing || ws.readyState !== ws.OPEN) return;
    // Decimated data goes out only well under the soft cap, so essentials always have room.
    while (st.queue.length > 0 && ws.bufferedAmount <= this.limits.softBufferBytes / 4) ws.send(st.queue.shift()!.payload);
  }

  /** Per tick: gap notices for clients that caught up, signal and features reads, queued messages. */
  private pumpAll(): void {
    const now = localClock();
    for (const [ws, st] of this.clients) {
      if (st.closing || ws.readyState !== ws.OPEN) continue;
      if (st.missedFrom !== undefined) {
        if (ws.bufferedAmount <= this.limits.softBufferBytes / 4) this.sendGap(ws, st);
        else {
          this.withinBuffer(ws, st, true);
          continue;
        }
      }
      if (st.topics.has('signal') && this.due(st, 'signal', now)) this.pumpSignal(ws, st);
      if (st.topics.has('features') && this.due(st, 'features', now)) {
        const info = this.signal.pick(st.stream);
        const p = info && this.signal.logPower(info.id);
        if (info && p) this.enqueue(ws, st, 'features', encode({ type: 'features', stream: info.id, t: p.t, names: p.names, values: p.values }, st.format));
      }
      this.flush(ws, st);
    }
  }

  private pumpSignal(ws: WebSocket, st: ClientState): void {
    const info = this.signal.pick(st.stream);
    if (!info) return;
    const chans = st.channels ?? Array.from({ length: Math.min(8, info.names.length) }, (_, k) => k);
    // A new reader starts one rate-interval back, so its first message is not empty.
    st.signalCursor ??= Math.max(0, this.signal.end(info.id) - Math.ceil(info.srate / st.topicRate));
    const r = this.signal.read(info.id, st.signalCursor, chans);
    if (!r) return;
    st.signalCursor = r.next;
    if (r.skipped > 0) this.problems.count('signal-skipped');
    const valid = chans.filter((c) => c < info.names.length);
    this.enqueue(ws, st, 'signal', encode({ type: 'signal', stream: info.id, t0: r.t0, srate: info.srate, channels: valid, names: valid.map((c) => info.names[c]!), data: r.traces }, st.format));
  }

  private sendGap(ws: WebSocket, st: ClientState): void {
    const from = st.missedFrom!;
    const to = st.missedTo;
    st.missedFrom = undefined;
    st.gaps++;
    this.stats_.gaps++;
    this.metrics.gaps.inc();
    log.warn({ from, to, missed: to - from + 1, dropped: st.dropped }, 'client fell behind: gap notice sent');
    this.sendTo(ws, { type: 'gap', from, to, missed: to - from + 1, ...(this.lastIntent ? { latest: this.lastIntent } : {}), ...(this.lastStatus ? { status: this.lastStatus } : {}) }, true);
  }

  private broadcast(m: ServerMessage, topic: Topic): void {
    const cache: Partial<Record<WireFormat, Uint8Array | string>> = {};
    for (const [ws, st] of this.clients) {
      if (st.closing || ws.readyState !== ws.OPEN || !st.topics.has(topic)) continue;
      this.sendTo(ws, m, true, (cache[st.format] ??= encode(m, st.format)));
    }
  }

  async close(): Promise<void> {
    this.problems.flush();
    if (this.pump) clearInterval(this.pump);
    for (const ws of this.clients.keys()) ws.close(1001, 'server shutting down');
    await new Promise<void>((r) => (this.wss ? this.wss.close(() => r()) : r()));
    for (const ws of this.clients.keys()) ws.terminate();
    await new Promise<void>((r) => {
      if (!this.http) return r();
      this.http.close(() => r());
      this.http.closeAllConnections();
    });
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
    return '';
  }
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
