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
}

export interface ErrorMessage {
  type: 'error';
  code: 'bad-message' | 'unknown-type' | 'bad-field' | 'unknown-seq';
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

export function decode(data: Buffer | ArrayBuffer | Buffer[] | string, f: WireFormat): unknown {
  if (typeof data === 'string') return JSON.parse(data);
  const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
  return f === 'json' ? JSON.parse(buf.toString('utf8')) : packr.unpack(buf);
}

/** Validate an incoming client message; returns it typed or an error text naming the problem. */
export function parseClientMessage(raw: unknown): ClientMessage | { error: ErrorMessage } {
  const bad = (code: ErrorMessage['code'], message: string) => ({ error: { type: 'error' as const, code, message } });
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return bad('bad-message', 'message must be an object');
  const m = raw as Record<string, unknown>;
  if (m.type === 'ping') {
    if (typeof m.t !== 'number') return bad('bad-field', 'ping.t must be a number');
    return { type: 'ping', t: m.t };
  }
  if (m.type === 'feedback') {
    if (!Number.isInteger(m.seq)) return bad('bad-field', 'feedback.seq must be an integer');
    if (m.reward === undefined && m.label === undefined) return bad('bad-field', 'feedback needs reward or label');
    if (m.reward !== undefined && (typeof m.reward !== 'number' || !(m.reward >= -1 && m.reward <= 1)))
      return bad('bad-field', 'feedback.reward must be a number in [-1, 1]');
    if (m.label !== undefined && typeof m.label !== 'string') return bad('bad-field', 'feedback.label must be a string');
    return { type: 'feedback', seq: m.seq as number, ...(m.reward !== undefined ? { reward: m.reward as number } : {}), ...(m.label !== undefined ? { label: m.label as string } : {}) };
  }
  return bad('unknown-type', `unknown message type ${JSON.stringify(m.type)}`);
}
