/** Stream metadata: reading liblsl stream infos into plain objects, and building infos for outlets. */
import type { ChannelInfo, StreamMeta } from '../../src/types.ts';
import { CF, CF_NAME, type ChannelFormat, liblsl, takeString } from './liblsl.ts';
import { channelFrom, checkedChannels } from '../../src/util/channels.ts';

/** Plain description of an LSL stream (everything a consumer needs, no native handles). */
export type StreamDescription = StreamMeta;

type Ptr = unknown;

function childText(el: Ptr, name: string): string | undefined {
  const L = liblsl();
  const c = L.lsl_child(el, name);
  if (!c || L.lsl_empty(c)) return undefined;
  const v = L.lsl_child_value(c) as string;
  return v === '' ? undefined : v;
}

/** Read desc/channels/channel entries (label, type, unit, location, shaft, contact). */
export function readChannels(info: Ptr, count: number): ChannelInfo[] {
  const L = liblsl();
  const desc = L.lsl_get_desc(info);
  const chans = L.lsl_child(desc, 'channels');
  const out: ChannelInfo[] = [];
  if (chans && !L.lsl_empty(chans)) {
    for (let ch = L.lsl_first_child(chans); ch && !L.lsl_empty(ch); ch = L.lsl_next_sibling(ch)) {
      if ((L.lsl_name(ch) as string) !== 'channel') continue;
      const loc = L.lsl_child(ch, 'location');
      const hasLoc = loc && !L.lsl_empty(loc);
      out.push(channelFrom(out.length, (n) => childText(ch, n), hasLoc ? (k) => childText(loc, k) : undefined));
    }
  }
  return checkedChannels(out, count);
}

/** Convert a native streaminfo handle into a plain StreamDescription. */
export function describe(info: Ptr): StreamDescription {
  const L = liblsl();
  const channelCount = L.lsl_get_channel_count(info) as number;
  const fmt = L.lsl_get_channel_format(info) as number;
  return {
    name: L.lsl_get_name(info) as string,
    type: L.lsl_get_type(info) as string,
    channelCount,
    srate: L.lsl_get_nominal_srate(info) as number,
    format: CF_NAME[fmt] ?? 'float32',
    sourceId: L.lsl_get_source_id(info) as string,
    uid: L.lsl_get_uid(info) as string,
    hostname: L.lsl_get_hostname(info) as string,
    sessionId: L.lsl_get_session_id(info) as string,
    createdAt: L.lsl_get_created_at(info) as number,
    channels: readChannels(info, channelCount),
    xml: takeString(L.lsl_get_xml(info)),
  };
}

/** What an outlet publishes. */
export interface StreamSpec {
  name: string;
  type: string;
  channelCount: number;
  /** Nominal rate in Hz; 0 for irregular streams (markers). */
  srate: number;
  format: ChannelFormat;
  sourceId: string;
  /** Channel metadata written to desc/channels (labels, types, units, locations, shafts). */
  channels?: ChannelInfo[];
  /** Extra flat key/value entries written under desc. */
  desc?: Record<string, string>;
  /** Preferred chunk granularity in samples (0 = sender's pushes). */
  chunkSize?: number;
  /** Outlet buffer in seconds (or samples for irregular streams). */
  maxBuffered?: number;
}

/** Validates a spec; throws an Error naming the bad field. */
export function validateSpec(s: StreamSpec): void {
  if (!s.name) throw new Error('stream spec: name is empty');
  if (!Number.isInteger(s.channelCount) || s.channelCount < 1)
    throw new Error(`stream spec "${s.name}": channelCount must be a positive integer, got ${s.channelCount}`);
  if (!Number.isFinite(s.srate) || s.srate < 0)
    throw new Error(`stream spec "${s.name}": srate must be >= 0, got ${s.srate}`);
  if (!(s.format in CF)) throw new Error(`stream spec "${s.name}": unknown channel format "${s.format}"`);
  if (s.channels && s.channels.length !== s.channelCount)
    throw new Error(`stream spec "${s.name}": ${s.channels.length} channel descriptions for ${s.channelCount} channels`);
}

/** Create a native streaminfo with desc filled from the spec. Caller owns the handle. */
export function createInfo(s: StreamSpec): Ptr {
  validateSpec(s);
  const L = liblsl();
  const info = L.lsl_create_streaminfo(s.name, s.type, s.channelCount, s.srate, CF[s.format], s.sourceId);
  const desc = L.lsl_get_desc(info);
  for (const [k, v] of Object.entries(s.desc ?? {})) L.lsl_append_child_value(desc, k, v);
  if (s.channels) {
    const chans = L.lsl_append_child(desc, 'channels');
    for (const c of s.channels) {
      const ch = L.lsl_append_child(chans, 'channel');
      L.lsl_append_child_value(ch, 'label', c.label);
      if (c.type) L.lsl_append_child_value(ch, 'type', c.type);
      if (c.unit) L.lsl_append_child_value(ch, 'unit', c.unit);
      if (c.pos) {
        const loc = L.lsl_append_child(ch, 'location');
        L.lsl_append_child_value(loc, 'X', String(c.pos[0]));
        L.lsl_append_child_value(loc, 'Y', String(c.pos[1]));
        L.lsl_append_child_value(loc, 'Z', String(c.pos[2]));
      }
      if (c.shaft) L.lsl_append_child_value(ch, 'shaft', c.shaft);
      if (c.contact !== undefined) L.lsl_append_child_value(ch, 'contact', String(c.contact));
    }
  }
  return info;
}
