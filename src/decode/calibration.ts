/**
 * Collects labelled training frames from cue markers. A cue `<paradigm>:<label>`
 * (e.g. `mi:left`) labels the frames whose end falls in [onset + from, onset + to].
 */
import type { Frame } from '../align/framer.ts';

export interface CalibrationOptions {
  /** Paradigm prefix of the cue markers (default 'mi'). */
  paradigm?: string;
  /** Labels to learn (default: every label seen with the paradigm prefix). */
  classes?: string[];
  /** Seconds after cue onset where the labelled window starts / ends. */
  from?: number;
  to?: number;
  /** Use every n-th labelled frame (neighbouring frames overlap by most of their window). Default 2. */
  stride?: number;
}

export class CalibrationCollector {
  private cues: { t: number; label: string }[] = [];
  readonly X: Float64Array[] = [];
  readonly y: string[] = [];
  /** Set once a `calib:end` marker has been seen. */
  ended = false;
  started = false;
  private labelled = 0;

  constructor(private readonly opts: CalibrationOptions = {}) {}

  /** Note the frame's markers; returns the label of the frame if it falls in a trial. */
  observe(frame: Frame): string | undefined {
    const prefix = `${this.opts.paradigm ?? 'mi'}:`;
    for (const m of frame.markers) {
      if (m.value === 'calib:start') this.started = true;
      if (m.value === 'calib:end') this.ended = true;
      if (m.value.startsWith(prefix)) {
        const label = m.value.slice(prefix.length);
        if (!this.opts.classes || this.opts.classes.includes(label)) this.cues.push({ t: m.t, label });
      }
    }
    const from = this.opts.from ?? 0.5;
    const to = this.opts.to ?? 4.0;
    this.cues = this.cues.filter((c) => frame.tEnd <= c.t + to + 10);
    for (let i = this.cues.length - 1; i >= 0; i--) {
      const c = this.cues[i]!;
      if (frame.tEnd >= c.t + from && frame.tEnd <= c.t + to) return this.labelled++ % (this.opts.stride ?? 2) === 0 ? c.label : undefined;
    }
    return undefined;
  }

  add(x: Float64Array, label: string): void {
    this.X.push(x);
    this.y.push(label);
  }

  counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const l of this.y) out[l] = (out[l] ?? 0) + 1;
    return out;
  }
}
