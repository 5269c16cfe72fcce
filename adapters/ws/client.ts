/**
 * TypeScript client for the neurox app protocol (v1).
 *
 * ```ts
 * const c = await NeuroxClient.connect('ws://127.0.0.1:8765');
 * c.on('intent', (i) => console.log(i.label, i.confidence));
 * c.feedback(i.seq, { reward: 1 });
 * ```
 */
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import {
  decode, encode, SUBPROTOCOL_JSON, SUBPROTOCOL_MSGPACK,
  type ClientMessage, type HelloMessage, type IntentMessage, type ServerMessage, type WireFormat,
} from './protocol.ts';

export interface NeuroxClientEvents {
  hello: [HelloMessage];
  intent: [IntentMessage];
  message: [ServerMessage];
  close: [number];
}

export class NeuroxClient extends EventEmitter<NeuroxClientEvents> {
  hello: HelloMessage | undefined;

  private constructor(
    private readonly ws: WebSocket,
    readonly format: WireFormat,
  ) {
    super();
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const m = decode(isBinary ? data : data.toString(), format) as ServerMessage;
      if (m.type === 'hello') (this.hello = m), this.emit('hello', m);
      if (m.type === 'intent') this.emit('intent', m);
      this.emit('message', m);
    });
    ws.on('close', (code) => this.emit('close', code));
  }

  /** Connect and wait for the server's hello. */
  static connect(url: string, opts: { format?: WireFormat; timeoutMs?: number } = {}): Promise<NeuroxClient> {
    const format = opts.format ?? 'msgpack';
    const ws = new WebSocket(url, [format === 'json' ? SUBPROTOCOL_JSON : SUBPROTOCOL_MSGPACK]);
    const c = new NeuroxClient(ws, format);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no hello from ${url} within ${opts.timeoutMs ?? 5000} ms`)), opts.timeoutMs ?? 5000);
      c.once('hello', () => (clearTimeout(timer), resolve(c)));
      ws.once('error', (e) => (clearTimeout(timer), reject(e)));
    });
  }

  send(m: ClientMessage): void {
    this.ws.send(encode(m, this.format));
  }

  /** Report a reward in [-1, 1] or the true label for intent `seq`. */
  feedback(seq: number, fb: { reward?: number; label?: string }): void {
    this.send({ type: 'feedback', seq, ...fb });
  }

  /** Wait for the next message matching a predicate. */
  next<T extends ServerMessage>(pred: (m: ServerMessage) => m is T, timeoutMs = 5000): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => (this.off('message', on), reject(new Error(`timed out after ${timeoutMs} ms`))), timeoutMs);
      const on = (m: ServerMessage) => {
        if (!pred(m)) return;
        clearTimeout(timer);
        this.off('message', on);
        resolve(m);
      };
      this.on('message', on);
    });
  }

  close(): void {
    this.ws.close();
  }
}
