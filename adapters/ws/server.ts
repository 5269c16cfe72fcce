/** The emit stage's WebSocket server: intents out, feedback in. */
import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Intent } from '../../src/types.ts';
import { logger } from '../../src/log.ts';
import { localClock } from '../../src/util/clock.ts';
import {
  decode, encode, parseClientMessage, PROTOCOL_VERSION, SUBPROTOCOL_JSON, SUBPROTOCOL_MSGPACK,
  type FeedbackMessage, type HelloMessage, type ServerMessage, type StatusMessage, type WireFormat,
} from './protocol.ts';

const log = logger('ws.server');

export interface IntentServerOptions {
  port?: number;
  host?: string;
  /** Called to build each connection's hello (model and streams may change). */
  hello: () => Omit<HelloMessage, 'type' | 'protocol' | 'format' | 'serverTime'>;
}

/** Emits 'feedback' (FeedbackMessage) from clients. */
export class IntentServer extends EventEmitter {
  private wss: WebSocketServer | undefined;
  private readonly clients = new Map<WebSocket, WireFormat>();
  private lastStatus: StatusMessage | undefined;
  private maxSeq = -1;

  constructor(private readonly opts: IntentServerOptions) {
    super();
  }

  /** Start listening; resolves with the bound port. */
  async listen(): Promise<number> {
    const wss = new WebSocketServer({
      port: this.opts.port ?? 8765,
      host: this.opts.host ?? '127.0.0.1',
      handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL_JSON) ? SUBPROTOCOL_JSON : protocols.has(SUBPROTOCOL_MSGPACK) ? SUBPROTOCOL_MSGPACK : false),
    });
    this.wss = wss;
    await new Promise<void>((resolve, reject) => {
      wss.once('listening', resolve);
      wss.once('error', reject);
    });
    wss.on('error', (e) => log.error({ err: e.message }, 'websocket server error'));
    wss.on('connection', (ws, req) => this.onConnection(ws, req.url ?? ''));
    return (wss.address() as AddressInfo).port;
  }

  get port(): number {
    return (this.wss?.address() as AddressInfo | undefined)?.port ?? 0;
  }

  get clientCount(): number {
    return this.clients.size;
  }

  private onConnection(ws: WebSocket, url: string): void {
    // Subprotocol wins; `?format=json` is accepted for clients that cannot set one.
    const format: WireFormat = ws.protocol === SUBPROTOCOL_JSON || (!ws.protocol && /[?&]format=json/.test(url)) ? 'json' : 'msgpack';
    this.clients.set(ws, format);
    log.info({ format, clients: this.clients.size }, 'client connected');
    this.sendTo(ws, { type: 'hello', protocol: PROTOCOL_VERSION, format, serverTime: localClock(), ...this.opts.hello() });
    if (this.lastStatus) this.sendTo(ws, this.lastStatus);
    ws.on('message', (data, isBinary) => {
      let raw: unknown;
      try {
        raw = decode(isBinary ? (data as Buffer) : data.toString(), format);
      } catch (e) {
        this.sendTo(ws, { type: 'error', code: 'bad-message', message: `cannot decode ${format} message: ${(e as Error).message}` });
        return;
      }
      const m = parseClientMessage(raw);
      if ('error' in m) {
        log.warn({ err: m.error.message }, 'bad client message');
        this.sendTo(ws, m.error);
        return;
      }
      if (m.type === 'ping') this.sendTo(ws, { type: 'pong', t: m.t, serverTime: localClock() });
      else this.onFeedback(ws, m);
    });
    ws.on('close', () => {
      this.clients.delete(ws);
      log.info({ clients: this.clients.size }, 'client disconnected');
    });
    ws.on('error', (e) => log.warn({ err: e.message }, 'client socket error'));
  }

  private onFeedback(ws: WebSocket, m: FeedbackMessage): void {
    if (m.seq < 0 || m.seq > this.maxSeq) {
      this.sendTo(ws, { type: 'error', code: 'unknown-seq', message: `no intent with seq ${m.seq} was emitted` });
      return;
    }
    this.sendTo(ws, { type: 'ack', of: 'feedback', seq: m.seq });
    this.emit('feedback', m);
  }

  private sendTo(ws: WebSocket, m: ServerMessage): void {
    const f = this.clients.get(ws) ?? 'msgpack';
    if (ws.readyState === ws.OPEN) ws.send(encode(m, f));
  }

  /** Broadcast an intent to every client. Encodes once per wire format. */
  sendIntent(i: Intent): void {
    this.maxSeq = Math.max(this.maxSeq, i.seq);
    this.broadcast({ type: 'intent', ...i });
  }

  sendStatus(s: Omit<StatusMessage, 'type'>): void {
    this.lastStatus = { type: 'status', ...s };
    this.broadcast(this.lastStatus);
  }

  private broadcast(m: ServerMessage): void {
    const cache: Partial<Record<WireFormat, Buffer | string>> = {};
    for (const [ws, f] of this.clients) {
      if (ws.readyState !== ws.OPEN) continue;
      ws.send((cache[f] ??= encode(m, f)));
    }
  }

  async close(): Promise<void> {
    for (const ws of this.clients.keys()) ws.close(1001, 'server shutting down');
    await new Promise<void>((r) => (this.wss ? this.wss.close(() => r()) : r()));
  }
}
