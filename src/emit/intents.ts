/**
 * The emit stage's core: decoded frames become intents here, in one place, with
 * one sequence counter, whatever the decoder. The sinks (WebSocket, recorder,
 * terminal) only ever see what this builds.
 */
import type { Frame } from '../align/framer.ts';
import type { Intent } from '../types.ts';
import type { Stage } from '../stage.ts';
import { localClock } from '../util/clock.ts';
import type { Decoded } from '../decode/baseline.ts';

/** What a decoder says about one frame (defined by the decode stage, below this one). */
export type { Decoded };

/** A frame and what the decoder made of it: the decode stage's output. */
export interface DecodedFrame {
  frame: Pick<Frame, 'tEnd' | 'arrivedAt' | 'seq'>;
  decoded: Decoded;
  /** Decoder name, as intents carry it. */
  model: string;
}

export interface IntentState {
  /** Sequence number of the next intent. */
  seq: number;
}

export class IntentStage implements Stage<DecodedFrame, Intent, IntentState> {
  readonly name = 'emit';
  readonly state: IntentState = { seq: 0 };

  /** @param abstainBelow intents with a confidence below this are marked abstained. */
  constructor(private readonly abstainBelow = 0, private readonly clock: () => number = localClock) {}

  /**
   * One intent per decoded frame. Its emission time is taken now, after the
   * decoder ran, so the latency includes the decoder's work (never before `now`).
   */
  push(d: DecodedFrame, now: number): Intent[] {
    const tEmit = Math.max(now, this.clock());
    return [{
      seq: this.state.seq++,
      label: d.decoded.label,
      probs: d.decoded.probs,
      confidence: d.decoded.confidence,
      tFrame: d.frame.tEnd,
      tEmit,
      latencyMs: (tEmit - d.frame.arrivedAt) * 1000,
      model: d.model,
      abstained: d.decoded.confidence < this.abstainBelow,
    }];
  }

  reset(): void {
    this.state.seq = 0;
  }
}
