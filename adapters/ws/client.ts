/**
 * TypeScript client for the neurox app protocol (v1.1), for Node and browsers
 * (`import { NeuroxClient } from 'neurox/client'`). Typed events, reconnect with
 * back-off (subscriptions are renewed on every new connection), feedback,
 * subscribe, control, and latency measured against the server's clock.
 *
 * ```ts
 * const c = await NeuroxClient.connect('ws://127.0.0.1:8765', { token });
 * c.on('intent', (i) => console.log(i.label, i.confidence, c.deliveryMs(i)));
 * c.subscribe(['health', 'signal'], { rate: 10, channels: [0, 1] });
 * await c.control('record.start');
 * ```
 *
 * Browser-safe: no Node built-ins; in Node the `ws` package supplies the socket.
 */
import {
  decode, encode, SUBPROTOCOL_JSON, SUBPROTOCOL_MSGPACK,
  type AckMessage, type ClientMessage, type ControlAction, type ErrorMessage, type EventMessage, type FeaturesMessage, type GapMessage,
  type HealthMessage, type HelloMessage, type IntentMessage, type PongMessage, type ServerMessage, type SignalMessage, type StatusMessage,
  type Topic, type WireFormat,
} from './protocol.ts';

export type * from './protocol.ts';

/** Events a client emits, with their arguments. */
export interface NeuroxClientEvents {
  hello: [HelloMessage];
  intent: [IntentMessage];
  status: [StatusMessage];
  signal: [SignalMessage];
  features: [FeaturesMessage];
  health: [HealthMessage];
  event: [EventMessage];
  gap: [GapMessage];
  error: [ErrorMessage];
  ack: [AckMessage];
  pong: [PongMessage];
  /** Every server message, whatever its type. */
  message: [ServerMessage];
  /** The connection closed (code, reason); `reconnecting` follows unless closed by the app. */
  close: [number, string];
  reconnecting: [{ attempt: number; delayMs: number }];
}

/** The part of the WebSocket API used here (the browser's and `ws`'s). */
interface Socket {
  readonly readyState: number;
  binaryType: string;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open' | 'message' | 'close' | 'error', fn: (e: { data?: unknown; code?: number; reason?: string }) => void): void;
}
type SocketCtor = new (url: string, protocols: string[]) => Socket;

export interface ClientOptions {
  format?: WireFormat;
  /** A token (`role` comes with it); sent as `?token=` since browsers cannot set headers. */
  token?: string;
  /** Milliseconds to wait for the first hello (default 5000). */
  timeoutMs?: number;
  /** Reconnect after a lost connection (default true): back-off from `minMs`, doubling to `maxMs`, with jitter. */
  reconnect?: boolean | { minMs?: number; maxMs?: number };
  /** A WebSocket constructor (default: the global one, else the `ws` package). */
  WebSocket?: SocketCtor;
}

type Listener<K extends keyof NeuroxClientEvents> = (...a: NeuroxClientEvents[K]) => void;
type AnyListener = (...a: unknown[]) => void;

/** Seconds on a monotonic local clock (performance.now in both Node and browsers). */
const now = (): number => performance.now() / 1000;

export class NeuroxClient {
  hello: HelloMessage | undefined;
  /** Estimated server clock minus local clock (s), from the best ping so far; undefined until measured. */
  clockOffset: number | undefined;
  /** Round-trip time of the best ping (ms). */
  rttMs: number | undefined;
  private ws: Socket | undefined;
  private readonly listeners = new Map<keyof NeuroxClientEvents, Set<AnyListener>>();
  private closedByApp = false;
  private attempt = 0;
  private subs: { topics: Set<Topic>; rate?: number; channels?: number[]; stream?: string } = { topics: new Set() };
  private nextId = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  private constructor(private readonly url: string, readonly format: WireFormat, private readonly opts: ClientOptions, private readonly Ctor: SocketCtor) {}

  /** Connect and wait for the server's hello. */
  static async connect(url: string, opts: ClientOptions = {}): Promise<NeuroxClient> {
    const g = globalThis as { WebSocket?: SocketCtor };
    const Ctor = opts.WebSocket ?? g.WebSocket ?? ((await import('ws')).default as unknown as SocketCtor);
    const c = new NeuroxClient(url, opts.format ?? 'msgpack', opts, Ctor);
    const ms = opts.timeoutMs ?? 5000;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => (c.closedByApp = true, c.ws?.close(), reject(new Error(`no hello from ${url} within ${ms} ms`))), ms);
      c.once('hello', () => (clearTimeout(timer), resolve()));
      c.open((why) => (clearTimeout(timer), c.closedByApp = true, reject(new Error(`cannot connect to ${url}: ${why}`))));
    });
    return c;
  }

  /** The role this connection's token carries (undefined: read-only). */
  get role(): HelloMessage['role'] {
    return this.hello?.role;
  }

  get connected(): boolean {
    return this.ws?.readyState === 1;
  }

  private open(onFirstFailure?: (why: string) => void): void {
    const u = this.opts.token ? `${this.url}${this.url.includes('?') ? '&' : '?'}token=${encodeURIComponent(this.opts.token)}` : this.url;
    const ws = new this.Ctor(u, [this.format === 'json' ? SUBPROTOCOL_JSON : SUBPROTOCOL_MSGPACK]);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    let opened = false;
    ws.addEventListener('open', () => {
      opened = true;
      this.attempt = 0;
    });
    ws.addEventListener('message', (e) => this.onData(e.data));
    ws.addEventListener('error', () => {
      if (!opened && onFirstFailure && !this.hello) onFirstFailure('connection failed');
    });
    ws.addEventListener('close', (e) => {
      if (this.ws !== ws) return;
      this.emit('close', e.code ?? 1006, e.reason ?? '');
      if (!this.closedByApp && this.hello && this.opts.reconnect !== false) this.scheduleReconnect();
    });
  }

  private scheduleReconnect(): void {
    const r = typeof this.opts.reconnect === 'object' ? this.opts.reconnect : {};
    const min = r.minMs ?? 250;
    const max = r.maxMs ?? 10000;
    const delayMs = Math.min(max, min * 2 ** this.attempt) * (0.75 + 0.5 * Math.random());
    this.attempt++;
    this.emit('reconnecting', { attempt: this.attempt, delayMs });
    this.timer = setTimeout(() => !this.closedByApp && this.open(), delayMs);
    // In Node a pending retry alone does not keep the process alive (browsers have no unref).
    (this.timer as { unref?: () => void }).unref?.();
  }

  private onData(data: unknown): void {
    let m: ServerMessage;
    try {
      m = decode(data as string | ArrayBuffer, this.format) as ServerMessage;
    } catch {
      return; // not ours to crash on; the server never sends undecodable frames
    }
    if (m.type === 'hello') {
      this.hello = m;
      // A new connection: renew the subscriptions the app asked for.
      if (this.subs.topics.size > 0) this.sendSubscribe();
    }
    this.emit(m.type, m as never);
    this.emit('message', m);
  }

  on<K extends keyof NeuroxClientEvents>(k: K, fn: Listener<K>): this {
    let s = this.listeners.get(k);
    if (!s) this.listeners.set(k, (s = new Set()));
    s.add(fn as unknown as AnyListener);
    return this;
  }

  off<K extends keyof NeuroxClientEvents>(k: K, fn: Listener<K>): this {
    this.listeners.get(k)?.delete(fn as unknown as AnyListener);
    return this;
  }

  once<K extends keyof NeuroxClientEvents>(k: K, fn: Listener<K>): this {
    const w = ((...a: NeuroxClientEvents[K]) => (this.off(k, w), fn(...a))) as Listener<K>;
    return this.on(k, w);
  }

  private emit<K extends keyof NeuroxClientEvents>(k: K, ...a: NeuroxClientEvents[K]): void {
    for (const fn of [...(this.listeners.get(k) ?? [])]) (fn as unknown as Listener<K>)(...a);
  }

  /** Send a raw protocol message (dropped while disconnected). */
  send(m: ClientMessage): void {
    if (this.ws?.readyState === 1) this.ws.send(encode(m, this.format));
  }

  /** Report a reward in [-1, 1] or the true label for intent `seq`. */
  feedback(seq: number, fb: { reward?: number; label?: string }): void {
    this.send({ type: 'feedback', seq, ...fb });
  }

  /** Subscribe to topics (kept across reconnects); `rate` in messages per second for decimated topics. */
  subscribe(topics: Topic[], o: { rate?: number; channels?: number[]; stream?: string } = {}): void {
    for (const t of topics) this.subs.topics.add(t);
    if (o.rate !== undefined) this.subs.rate = o.rate;
    if (o.channels !== undefined) this.subs.channels = o.channels;
    if (o.stream !== undefined) this.subs.stream = o.stream;
    this.sendSubscribe();
  }

  unsubscribe(topics: Topic[]): void {
    for (const t of topics) this.subs.topics.delete(t);
    this.send({ type: 'unsubscribe', topics });
  }

  private sendSubscribe(): void {
    const { rate, channels, stream } = this.subs;
    this.send({ type: 'subscribe', topics: [...this.subs.topics], ...(rate !== undefined ? { rate } : {}), ...(channels ? { channels } : {}), ...(stream ? { stream } : {}) });
  }

  /** Send a control action; resolves with its ack, rejects with the server's error (e.g. unauthorized). */
  control(action: ControlAction, timeoutMs = 5000): Promise<AckMessage> {
    const id = `c${++this.nextId}`;
    return new Promise((resolve, reject) => {
      const done = () => (clearTimeout(t), this.off('ack', onAck), this.off('error', onErr));
      const t = setTimeout(() => (done(), reject(new Error(`${action}: no answer within ${timeoutMs} ms`))), timeoutMs);
      const onAck = (a: AckMessage) => a.id === id && (done(), resolve(a));
      const onErr = (e: ErrorMessage) => e.id === id && (done(), reject(Object.assign(new Error(e.message), { code: e.code, needs: e.needs })));
      this.on('ack', onAck).on('error', onErr);
      this.send({ type: 'control', action, id });
    });
  }

  /** One ping: round trip (ms) and the clock offset it implies; the best (shortest) round trip sets `clockOffset`. */
  async ping(timeoutMs = 5000): Promise<{ rttMs: number; offset: number }> {
    const t0 = now();
    const pong = await this.next((m): m is PongMessage => m.type === 'pong' && m.t === t0, timeoutMs, () => this.send({ type: 'ping', t: t0 }));
    const t1 = now();
    const rttMs = (t1 - t0) * 1000;
    const offset = pong.serverTime - (t0 + t1) / 2;
    if (this.rttMs === undefined || rttMs <= this.rttMs) (this.rttMs = rttMs), (this.clockOffset = offset);
    return { rttMs, offset };
  }

  /** Ping `n` times to estimate the clock offset (needed by deliveryMs). */
  async measureLatency(n = 5): Promise<{ rttMs: number; offset: number }> {
    for (let i = 0; i < n; i++) await this.ping();
    return { rttMs: this.rttMs!, offset: this.clockOffset! };
  }

  /** Milliseconds from the intent's emission on the server to now, on the server's clock (after measureLatency). */
  deliveryMs(i: IntentMessage, at = now()): number | undefined {
    return this.clockOffset === undefined ? undefined : (at + this.clockOffset - i.tEmit) * 1000;
  }

  /** Wait for the next message matching a predicate (`start` runs once listening). */
  next<T extends ServerMessage>(pred: (m: ServerMessage) => m is T, timeoutMs = 5000, start?: () => void): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => (this.off('message', on), reject(new Error(`timed out after ${timeoutMs} ms`))), timeoutMs);
      const on = (m: ServerMessage) => {
        if (!pred(m)) return;
        clearTimeout(timer);
        this.off('message', on);
        resolve(m);
      };
      this.on('message', on);
      start?.();
    });
  }

  /** Close for good (no reconnect). */
  close(): void {
    this.closedByApp = true;
    if (this.timer) clearTimeout(this.timer);
    this.ws?.close();
  }
}
