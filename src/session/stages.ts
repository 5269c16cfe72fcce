/**
 * The stages of the data-flow line before decode, each in the one stage contract
 * (`src/stage.ts`), with its processor as its state object. `Pipeline` folds a
 * chunk through them in order.
 */
import { NonFiniteRepair } from '../acquire/repair.ts';
import { Framer, type Frame, type FramerOptions } from '../align/framer.ts';
import { ClockCorrector, type ClockOptions } from '../clock/clock.ts';
import { DspChain, type DspChainHooks, type DspOptions } from '../dsp/chain.ts';
import type { Stage } from '../stage.ts';
import type { Chunk } from '../types.ts';

/** repair: NaN/Inf samples → the channel's last finite value (signal chunks only). */
export class RepairStage implements Stage<Chunk, Chunk, NonFiniteRepair> {
  readonly name = 'repair';
  state = new NonFiniteRepair();
  push(c: Chunk): Chunk[] {
    return [c.kind === 'signal' ? this.state.process(c) : c];
  }
  reset(): void {
    this.state = new NonFiniteRepair();
  }
}

/** clock: raw LSL timestamps → the common clock. */
export class ClockStage implements Stage<Chunk, Chunk, ClockCorrector> {
  readonly name = 'clock';
  state: ClockCorrector;
  constructor(private readonly opts?: ClockOptions) {
    this.state = new ClockCorrector(opts);
  }
  push(c: Chunk): Chunk[] {
    return this.state.process(c);
  }
  reset(): void {
    this.state = new ClockCorrector(this.opts);
  }
}

/** dsp: the configured chain (filters, montage, resampling; none by default). */
export class DspStage implements Stage<Chunk, Chunk, DspChain> {
  readonly name = 'dsp';
  state: DspChain;
  constructor(private readonly opts?: DspOptions, private readonly hooks?: DspChainHooks) {
    this.state = new DspChain(opts, hooks);
  }
  push(c: Chunk): Chunk[] {
    return this.state.process(c);
  }
  reset(): void {
    this.state = new DspChain(this.opts, this.hooks);
  }
}

/** align: chunks on the common clock → frames; `now` stands in for arrival when a chunk has none. */
export class AlignStage implements Stage<Chunk, Frame, Framer> {
  readonly name = 'align';
  state: Framer;
  constructor(private readonly opts: FramerOptions) {
    this.state = new Framer(opts);
  }
  push(c: Chunk, now: number): Frame[] {
    return this.state.push(c, c.kind === 'signal' ? (c.arrivedAt ?? now) : now);
  }
  /** Frames due although a stream went silent (the live timer). */
  drain(now: number): Frame[] {
    return this.state.drain(now);
  }
  reset(): void {
    this.state = new Framer(this.opts);
  }
}
