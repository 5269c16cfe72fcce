/**
 * The neurox app protocol, version 1. Chosen per connection by WebSocket
 * subprotocol: `neurox.v1.msgpack` (binary, default) or `neurox.v1.json`.
 */
import { Packr } from 'msgpackr';
import type { Intent } from '../../src/types.ts';

export const PROTOCOL_VERSION = 1;
export const SUBPROTOCOL_MSGPACK = 'neurox.v1.msgpack';
export const SUBPROTOCOL_JSON = 'neurox.v1.json';
export type WireFormat = 'msgpack' | 'json';

/** First message on every connection. */
export interface HelloMessage {
  type: 'hello';
  protocol: number;
  server: string;
  format: WireFormat;
  /** Decoder in use and its labels. */
  model: { name: string; labels: string[]; backend: string };
  streams: { id: string; name: string; type: string; channels: number; srate: number }[];
  /** Server's LSL clock at send time (s). */
  serverTime: number;
}

export interface IntentMessage extends Intent {
  type: 'intent';
}

export interface StatusMessage {
  type: 'status';
  state: 'waiting-for-streams' | 'calibrating' | 'running' | 'stream-lost' | 'stopped';
  detail?: string;
  /**
   * Problems that last (a recording that failed, frames dropped as stale); sent
   * again with every periodic health status while they last. Absent when all is well.
   */
  warnings?: string[];
  /** The recording, when the session records: its file and whether writing works. */
  recording?: { file: string; state: 'recording' | 'failed'; error?: string };
  /** Frames not decoded because they were too old or cut before a gap (since start). */
  staleFrames?: number;
}

export interface ErrorMessage {
  type: 'error';
  /**
   * bad-message: not a decodable message; bad-encoding: text that is not UTF-8;
   * too-large / too-deep: over the size or nesting limit; unknown-type, bad-field:
   * a decoded message the protocol does not accept; unknown-seq: feedback on an
   * intent that was never sent; rate-limited: over the per-client message rate
   * (the message was dropped); unauthorized: the message needs a token.
   */
  code: 'bad-message' | 'bad-encoding' | 'too-large' | 'too-deep' | 'unknown-type' | 'bad-field' | 'unknown-seq' | 'rate-limited' | 'unauthorized';
  message: string;
}

export interface PongMessage {
  type: 'pong';
  t: number;
  serverTime: number;
}

export interface AckMessage {
  type: 'ack';
  of: 'feedback';
  seq: number;
}

export type ServerMessage = HelloMessage | IntentMessage | StatusMessage | ErrorMessage | PongMessage | AckMessage;

/** Close codes the server uses besides the WebSocket standard ones (1009: message too big). */
export const CLOSE_POLICY = 1008;

/** Feedback on an intent: a reward in [-1, 1] or the true label. */
export interface FeedbackMessage {
  type: 'feedback';
  seq: number;
  reward?: number;
  label?: string;
}

export interface PingMessage {
  type: 'ping';
  t: number;
}

export type ClientMessage = FeedbackMessage | PingMessage;

const packr = new Packr({ useRecords: false });

export function encode(m: ServerMessage | ClientMessage, f: WireFormat): Buffer | string {
  return f === 'json' ? JSON.stringify(m) : packr.pack(m);
}

/** Decode a server message (the client side; the server decodes through guard.ts). */
export function decode(data: Buffer | ArrayBuffer | Buffer[] | string, f: WireFormat): unknown {
  if (typeof data === 'string') return JSON.parse(data);
  const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
  return f === 'json' ? JSON.parse(buf.toString('utf8')) : packr.unpack(buf);
}
