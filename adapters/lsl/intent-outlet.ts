/**
 * Intents as LSL streams, so LabRecorder and other LSL tools record and consume
 * them: a string marker stream (one JSON sample per intent: seq, label,
 * confidence, abstained) and optionally the class probabilities as a float
 * stream (one channel per label). Timestamps are the frame's end on the common
 * clock (`tFrame`), so a recording lines the decision up with the data it was
 * made from.
 */
import type { Intent } from '../../src/types.ts';
import { StreamOutlet } from './outlet.ts';

export interface IntentOutletOptions {
  /** Stream name and source_id (default `neurox-intents`). */
  name?: string;
  sourceId?: string;
  /** Also publish the probabilities as a float32 stream named `<name>-probs`. */
  probabilities?: boolean;
}

/** LSL stream type of the intent marker stream; not `Markers`, so a runtime never decodes its own intents as cues. */
export const INTENT_STREAM_TYPE = 'Intents';

export class IntentOutlet {
  private readonly markers: StreamOutlet;
  private probs: StreamOutlet | undefined;
  private labels: string[] | undefined;

  constructor(private readonly opts: IntentOutletOptions = {}) {
    const name = opts.name ?? 'neurox-intents';
    this.markers = new StreamOutlet({ name, type: INTENT_STREAM_TYPE, channelCount: 1, srate: 0, format: 'string', sourceId: opts.sourceId ?? name, desc: { neurox_format: 'json {seq,label,confidence,abstained}' } });
  }

  /** Publish one intent (and its probabilities, once the labels are known). */
  push(i: Intent): void {
    this.markers.pushStrings([JSON.stringify({ seq: i.seq, label: i.label, confidence: i.confidence, abstained: i.abstained })], i.tFrame);
    if (!this.opts.probabilities) return;
    if (!this.probs) {
      this.labels = Object.keys(i.probs);
      const name = `${this.opts.name ?? 'neurox-intents'}-probs`;
      this.probs = new StreamOutlet({
        name, type: 'Probabilities', channelCount: this.labels.length, srate: 0, format: 'float32', sourceId: `${this.opts.sourceId ?? 'neurox-intents'}-probs`,
        channels: this.labels.map((label) => ({ label, type: 'Probability' })),
      });
    }
    this.probs.pushChunk(Float32Array.from(this.labels!, (l) => i.probs[l] ?? 0), i.tFrame);
  }

  close(): void {
    this.markers.close();
    this.probs?.close();
  }
}
