/**
 * What every replay source yields and takes: items in replay order, the source
 * options, the stream id rule shared with the live acquire stage, and the error
 * a file that cannot be replayed raises.
 */
import type { Chunk, Intent, StreamId, StreamMeta } from '../../types.ts';

/** One item in replay order: an acquired chunk at local time `t`. */
export interface ReplayItem {
  t: number;
  chunk: Chunk;
}

/** How a replay source reads its file and what it reports besides the chunks. */
export interface ReplaySourceOptions {
  /** Seconds of look-ahead when merging streams by time (default 5). */
  horizon?: number;
  /** Samples per replayed signal block, in seconds of data (default 0.02). */
  blockSeconds?: number;
  /** Read a damaged file up to the damage (with a warning) instead of failing (default false). */
  lenient?: boolean;
  /** Collects reader warnings. */
  warnings?: string[];
  /** Called with each intent found in the file's `neurox-intents` stream. */
  onRecordedIntent?: (i: Intent) => void;
  /** Called with each session event in `neurox-events`. */
  onRecordedEvent?: (e: Record<string, unknown>, t: number) => void;
  /** Called with the file header fields (XDF) before the first chunk. */
  onHeader?: (fields: Record<string, string>) => void;
  /**
   * Rewrites a signal stream's metadata before any of its chunks (e.g. attaching electrode
   * positions from a BIDS electrodes.tsv); its `channels` are the ones the chunks carry.
   */
  mapStream?: (meta: StreamMeta) => StreamMeta;
}

/** The id the live acquire stage gives a stream (same rule as adapters/lsl streamIdOf). */
export function replayStreamId(m: Pick<StreamMeta, 'name' | 'sourceId' | 'uid'>): StreamId {
  return `${m.name}#${m.sourceId || m.uid.slice(0, 8)}`;
}

/** A file that cannot be replayed; the message names the file and the byte offset. */
export class ReplayError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReplayError';
  }
}
