/**
 * The adapt stage: the feedback arc from apps (and, later, from error potentials)
 * back into the decoder. Every feedback is matched to the intent it is about (by
 * seq, from the intents this stage saw), in arrival order, and handed on as a
 * `FeedbackRecord` (to the recording, and to whatever adapts the decoder's head).
 *
 * Head updates go through `HeadAdapter`: snapshot before a change, update, roll
 * back; the closed-loop learner (trust region, shadow evaluation) plugs in there.
 */
import type { Intent } from '../types.ts';
import type { Stage } from '../stage.ts';

/** What an app says about an intent. */
export interface Feedback {
  seq: number;
  reward?: number;
  label?: string;
}

/** A feedback matched with its intent, as the recording and the learner receive it. */
export interface FeedbackRecord {
  seq: number;
  reward?: number;
  label?: string;
  /** The intent the feedback is about (undefined when it is older than the history kept). */
  intent?: Intent;
  receivedAt: number;
  /** Position in arrival order (0, 1, …). */
  order: number;
}

/** A decoder whose head can be changed by adaptation, and put back. */
export interface HeadAdapter<H = unknown> {
  /** A copy of the head as it is now. */
  snapshot(): H;
  /** Put back a head taken by `snapshot`. */
  restore(h: H): void;
}

export interface AdaptState {
  /** Recent intents by seq (the last `history`). */
  intents: Map<number, Intent>;
  received: number;
  /** Heads saved before each change, newest last. */
  heads: unknown[];
  frozen: boolean;
}

export class AdaptStage implements Stage<Feedback, FeedbackRecord, AdaptState> {
  readonly name = 'adapt';
  readonly state: AdaptState = { intents: new Map(), received: 0, heads: [], frozen: false };

  constructor(private readonly history = 4096, private head?: HeadAdapter) {}

  /** Remember an intent so later feedback can be matched to it. */
  observe(i: Intent): void {
    this.state.intents.set(i.seq, i);
    if (this.state.intents.size > this.history) this.state.intents.delete(this.state.intents.keys().next().value!);
  }

  push(fb: Feedback, now: number): FeedbackRecord[] {
    const rec: FeedbackRecord = {
      seq: fb.seq,
      ...(fb.reward !== undefined ? { reward: fb.reward } : {}),
      ...(fb.label !== undefined ? { label: fb.label } : {}),
      intent: this.state.intents.get(fb.seq),
      receivedAt: now,
      order: this.state.received++,
    };
    return [rec];
  }

  /** Attach the decoder head adaptation works on (none: feedback is recorded only). */
  attach(head: HeadAdapter | undefined): void {
    this.head = head;
    this.state.heads = [];
  }

  /** Save the head before a change; false when frozen or there is no head. */
  checkpoint(): boolean {
    if (!this.head || this.state.frozen) return false;
    this.state.heads.push(this.head.snapshot());
    return true;
  }

  /** Put back the head saved by the last checkpoint; false when there is none. */
  rollback(): boolean {
    const h = this.state.heads.pop();
    if (h === undefined || !this.head) return false;
    this.head.restore(h);
    return true;
  }

  freeze(on = true): void {
    this.state.frozen = on;
  }

  reset(): void {
    this.state.intents.clear();
    this.state.received = 0;
    this.state.heads = [];
    this.state.frozen = false;
  }
}
