/**
 * The neurox app protocol, version 1.1: the one schema (zod) that the server
 * validates against and the client's types come from. Chosen per connection by
 * WebSocket subprotocol: `neurox.v1.msgpack` (binary, default) or `neurox.v1.json`.
 * v1.1 only adds message types and optional fields, so v1 clients keep working
 * on the same subprotocols. See docs/api.md for every message with an example.
 *
 * This module must stay browser-safe: no Node built-ins (the dashboard bundles it).
 */
import { Packr } from 'msgpackr';
import { z } from 'zod';

export const PROTOCOL_VERSION = 1;
/** Minor version: the message types and fields this server speaks. */
export const PROTOCOL_MINOR = 1;
export const SUBPROTOCOL_MSGPACK = 'neurox.v1.msgpack';
export const SUBPROTOCOL_JSON = 'neurox.v1.json';
export type WireFormat = 'msgpack' | 'json';

/** Longest string field accepted from a client (labels, ids). */
export const MAX_STRING = 256;

/** Roles a token carries, weakest first: each role may do what the ones before it may. */
export const ROLES = ['observer', 'operator', 'clinician'] as const;
export type Role = (typeof ROLES)[number];

/** Topics a client subscribes to; `intents` and `status` are on from the start (v1 behaviour). */
export const TOPICS = ['intents', 'status', 'signal', 'features', 'health', 'event'] as const;
export type Topic = (typeof TOPICS)[number];
/** Topics sent decimated at the client's rate; their oldest messages are dropped first for a slow client. */
export const DECIMATED_TOPICS: readonly Topic[] = ['signal', 'features', 'health'];

/** Control actions and the role each needs. */
export const CONTROL_ROLES = {
  'record.start': 'operator',
  'record.stop': 'operator',
  'calibration.start': 'operator',
  'adaptation.freeze': 'clinician',
  'adaptation.unfreeze': 'clinician',
  'adaptation.reset': 'clinician',
  'outputs.arm': 'clinician',
  'outputs.disarm': 'clinician',
} as const satisfies Record<string, Role>;
export type ControlAction = keyof typeof CONTROL_ROLES;
export const CONTROL_ACTIONS = Object.keys(CONTROL_ROLES) as [ControlAction, ...ControlAction[]];
/** Role needed for feedback. */
export const FEEDBACK_ROLE: Role = 'observer';

/** Whether `has` is at least `needs`. */
export function roleAllows(has: Role | undefined, needs: Role): boolean {
  return has !== undefined && ROLES.indexOf(has) >= ROLES.indexOf(needs);
}

// ---------------------------------------------------------------- client → server

const finite = (what: string) => z.number({ error: `must be ${what}` }).refine(Number.isFinite, { error: `must be ${what}` });
const int = (lo: number, hi: number) =>
  z.number({ error: `must be an integer` }).refine((v) => Number.isSafeInteger(v) && v >= lo && v <= hi, { error: `must be an integer in [${lo}, ${hi}]` });
const str = z.string({ error: `must be a string of 1–${MAX_STRING} chars` }).min(1, { error: `must be a string of 1–${MAX_STRING} chars` }).max(MAX_STRING, { error: `must be a string of 1–${MAX_STRING} chars` });
const topicList = z.array(z.enum(TOPICS, { error: `must name topics (${TOPICS.join(', ')})` }), { error: 'must be an array of topic names' })
  .min(1, { error: 'must name at least one topic' }).max(TOPICS.length, { error: `must name at most ${TOPICS.length} topics` });

export const PingSchema = z.object({ type: z.literal('ping'), t: finite('a finite number') });
export const FeedbackSchema = z
  .object({
    type: z.literal('feedback'),
    seq: z.number({ error: 'must be an integer' }).refine(Number.isSafeInteger, { error: 'must be an integer' }),
    reward: z.number({ error: 'must be a number in [-1, 1]' }).min(-1, { error: 'must be a number in [-1, 1]' }).max(1, { error: 'must be a number in [-1, 1]' }).optional(),
    label: str.optional(),
  })
  .refine((m) => m.reward !== undefined || m.label !== undefined, { error: 'needs reward or label' });
/** Subscribe to topics; `rate` (messages per second) for decimated topics; `channels` (indices) and `stream` for signal. */
export const SubscribeSchema = z.object({
  type: z.literal('subscribe'),
  topics: topicList,
  rate: z.number({ error: 'must be a number in [0.1, 60]' }).min(0.1, { error: 'must be a number in [0.1, 60]' }).max(60, { error: 'must be a number in [0.1, 60]' }).optional(),
  channels: z.array(int(0, 4095), { error: 'must be an array of channel indices' }).max(64, { error: 'must list at most 64 channels' }).optional(),
  stream: str.optional(),
});
export const UnsubscribeSchema = z.object({ type: z.literal('unsubscribe'), topics: topicList });
/** A control action; `id` (client-chosen) comes back in the ack or error. */
export const ControlSchema = z.object({
  type: z.literal('control'),
  action: z.enum(CONTROL_ACTIONS, { error: `must be one of ${CONTROL_ACTIONS.join(', ')}` }),
  id: str.optional(),
});

export const CLIENT_SCHEMAS = {
  ping: PingSchema,
  feedback: FeedbackSchema,
  subscribe: SubscribeSchema,
  unsubscribe: UnsubscribeSchema,
  control: ControlSchema,
} as const;

export type PingMessage = z.infer<typeof PingSchema>;
export type FeedbackMessage = z.infer<typeof FeedbackSchema>;
export type SubscribeMessage = z.infer<typeof SubscribeSchema>;
export type UnsubscribeMessage = z.infer<typeof UnsubscribeSchema>;
export type ControlMessage = z.infer<typeof ControlSchema>;
export type ClientMessage = PingMessage | FeedbackMessage | SubscribeMessage | UnsubscribeMessage | ControlMessage;

// ---------------------------------------------------------------- server → client

const StreamInfoSchema = z.object({ id: z.string(), name: z.string(), type: z.string(), channels: z.number(), srate: z.number(), channelNames: z.array(z.string()).optional() });

/** First message on every connection. */
export const HelloSchema = z.object({
  type: z.literal('hello'),
  protocol: z.number(),
  /** `1.1`: the message types of this document (absent from v1 servers). */
  version: z.string().optional(),
  server: z.string(),
  format: z.enum(['msgpack', 'json']),
  /** Decoder in use and its labels. */
  model: z.object({ name: z.string(), labels: z.array(z.string()), backend: z.string() }),
  streams: z.array(StreamInfoSchema),
  /** Server's LSL clock at send time (s). */
  serverTime: z.number(),
  /** The role this connection's token carries (absent: read-only). */
  role: z.enum(ROLES).optional(),
  /** Topics this server offers, and those this connection is subscribed to now. */
  topics: z.array(z.enum(TOPICS)).optional(),
  subscribed: z.array(z.enum(TOPICS)).optional(),
  /** Control actions and the role each needs. */
  controls: z.record(z.string(), z.enum(ROLES)).optional(),
  limits: z.object({ maxMessageBytes: z.number(), messagesPerSecond: z.number() }).optional(),
});

export const IntentSchema = z.object({
  type: z.literal('intent'),
  seq: z.number(),
  label: z.string(),
  probs: z.record(z.string(), z.number()),
  confidence: z.number(),
  tFrame: z.number(),
  tEmit: z.number(),
  latencyMs: z.number(),
  model: z.string(),
  abstained: z.boolean(),
});

export const StatusSchema = z.object({
  type: z.literal('status'),
  state: z.enum(['waiting-for-streams', 'calibrating', 'running', 'stream-lost', 'stopped']),
  detail: z.string().optional(),
  /** Problems that last (a recording that failed, frames dropped as stale); sent again with every health status while they last. */
  warnings: z.array(z.string()).optional(),
  /** The recording, when the session records: its file and whether writing works. */
  recording: z.object({ file: z.string(), state: z.enum(['recording', 'failed', 'stopped']), error: z.string().optional() }).optional(),
  /** Frames not decoded because they were too old or cut before a gap (since start). */
  staleFrames: z.number().optional(),
  /** Adaptation state when the decoder adapts (v1.1). */
  adaptation: z.object({ frozen: z.boolean(), feedback: z.number(), heads: z.number() }).optional(),
  /** Whether outputs are armed (v1.1; the closed loop sets it). */
  armed: z.boolean().optional(),
});

export const ERROR_CODES = [
  'bad-message', 'bad-encoding', 'too-large', 'too-deep', 'unknown-type', 'bad-field', 'unknown-seq', 'rate-limited', 'unauthorized', 'unavailable',
] as const;
export const ErrorSchema = z.object({
  type: z.literal('error'),
  /**
   * bad-message: not a decodable message; bad-encoding: text that is not UTF-8;
   * too-large / too-deep: over the size or nesting limit; unknown-type, bad-field:
   * a decoded message the protocol does not accept; unknown-seq: feedback on an
   * intent that was never sent; rate-limited: over the per-client message rate
   * (the message was dropped); unauthorized: the message needs a token with a
   * role (`needs` names it); unavailable: the session cannot do this control now.
   */
  code: z.enum(ERROR_CODES),
  message: z.string(),
  /** The role the refused message needs (unauthorized). */
  needs: z.enum(ROLES).optional(),
  /** The type of the message refused and the control id, when known. */
  of: z.string().optional(),
  id: z.string().optional(),
});

export const PongSchema = z.object({ type: z.literal('pong'), t: z.number(), serverTime: z.number() });

export const AckSchema = z.object({
  type: z.literal('ack'),
  of: z.enum(['feedback', 'subscribe', 'unsubscribe', 'control']),
  seq: z.number().optional(),
  /** subscribe / unsubscribe: the topics now subscribed. */
  subscribed: z.array(z.enum(TOPICS)).optional(),
  /** subscribe: the rate granted (messages per second). */
  rate: z.number().optional(),
  action: z.enum(CONTROL_ACTIONS).optional(),
  id: z.string().optional(),
});

/** Decimated traces of selected channels of one stream, for plotting. */
export const SignalSchema = z.object({
  type: z.literal('signal'),
  stream: z.string(),
  /** Time of the first sample on the common clock (s) and the decimated rate (Hz). */
  t0: z.number(),
  srate: z.number(),
  /** Channel indices and names, one trace each in `data` (same order). */
  channels: z.array(z.number()),
  names: z.array(z.string()),
  data: z.array(z.array(z.number())),
});

/** Decimated decoder features: here the class probabilities of the latest intent and per-channel signal power. */
export const FeaturesSchema = z.object({
  type: z.literal('features'),
  stream: z.string(),
  t: z.number(),
  names: z.array(z.string()),
  values: z.array(z.number()),
});

const LatencySchema = z.object({ n: z.number(), p50: z.number(), p90: z.number(), p99: z.number(), max: z.number() });
export const HealthSchema = z.object({
  type: z.literal('health'),
  /** Server's LSL clock (s). */
  t: z.number(),
  state: StatusSchema.shape.state,
  streams: z.array(z.object({
    id: z.string(),
    name: z.string(),
    /** Samples per second measured over the last interval, and the nominal rate. */
    rate: z.number(),
    nominal: z.number(),
    /** Gaps and samples missing since start. */
    gaps: z.number(),
    missingSamples: z.number(),
    badChannels: z.array(z.string()),
    /** Offset of the stream's clock from the server's (s). */
    clockOffset: z.number(),
  })),
  /** Intent latency (ms) over the last minute. */
  latencyMs: LatencySchema,
  intents: z.number(),
  clients: z.number(),
  /** This connection: messages dropped (decimated topics) and intents it missed (each in a gap notice). */
  client: z.object({ dropped: z.number(), missedIntents: z.number(), gaps: z.number() }),
});

export const EventSchema = z.object({
  type: z.literal('event'),
  kind: z.enum(['calibration', 'adaptation', 'safety', 'recording']),
  /** What happened, e.g. `started`, `finished`, `frozen`, `armed`, `failed`. */
  action: z.string(),
  t: z.number(),
  detail: z.string().optional(),
  /** Role of the client whose control caused it. */
  by: z.enum(ROLES).optional(),
});

/** This client missed intents `from`..`to` (inclusive) while it was not reading; `latest` and `status` bring it up to date. */
export const GapSchema = z.object({
  type: z.literal('gap'),
  from: z.number(),
  to: z.number(),
  missed: z.number(),
  latest: IntentSchema.optional(),
  status: StatusSchema.optional(),
});

export const SERVER_SCHEMAS = {
  hello: HelloSchema, intent: IntentSchema, status: StatusSchema, error: ErrorSchema, pong: PongSchema, ack: AckSchema,
  signal: SignalSchema, features: FeaturesSchema, health: HealthSchema, event: EventSchema, gap: GapSchema,
} as const;

export type HelloMessage = z.infer<typeof HelloSchema>;
export type IntentMessage = z.infer<typeof IntentSchema>;
export type StatusMessage = z.infer<typeof StatusSchema>;
export type ErrorMessage = z.infer<typeof ErrorSchema>;
export type PongMessage = z.infer<typeof PongSchema>;
export type AckMessage = z.infer<typeof AckSchema>;
export type SignalMessage = z.infer<typeof SignalSchema>;
export type FeaturesMessage = z.infer<typeof FeaturesSchema>;
export type HealthMessage = z.infer<typeof HealthSchema>;
export type EventMessage = z.infer<typeof EventSchema>;
export type GapMessage = z.infer<typeof GapSchema>;
export type ServerMessage =
  | HelloMessage | IntentMessage | StatusMessage | ErrorMessage | PongMessage | AckMessage
  | SignalMessage | FeaturesMessage | HealthMessage | EventMessage | GapMessage;

/** Close codes the server uses besides the WebSocket standard ones (1009: message too big). */
export const CLOSE_POLICY = 1008;

const packr = new Packr({ useRecords: false });

export function encode(m: ServerMessage | ClientMessage, f: WireFormat): Uint8Array | string {
  return f === 'json' ? JSON.stringify(m) : packr.pack(m);
}

/** Decode a server message (the client side; the server decodes through guard.ts). */
export function decode(data: Uint8Array | ArrayBuffer | Uint8Array[] | string, f: WireFormat): unknown {
  if (typeof data === 'string') return JSON.parse(data);
  let bytes: Uint8Array;
  if (Array.isArray(data)) {
    bytes = new Uint8Array(data.reduce((n, b) => n + b.length, 0));
    let o = 0;
    for (const b of data) bytes.set(b, o), (o += b.length);
  } else bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
  return f === 'json' ? JSON.parse(new TextDecoder().decode(bytes)) : packr.unpack(bytes);
}
