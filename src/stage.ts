/**
 * The one stage contract. Every stage of the data-flow line (repair → clock → dsp
 * → align → tokenize → model → decode → emit, with adapt as the feedback arc)
 * takes its input with an explicit `now` (the local clock, virtual in replay: that
 * is what makes replay deterministic), returns what the input completes, can be
 * reset, and keeps everything it remembers in one named state object, never in
 * module globals (as Moshi's streaming modules do).
 */
import { Observable, type OperatorFunction } from 'rxjs';
import { localClock } from './util/clock.ts';

/** A synchronous stage: input in, zero or more outputs out, at once. */
export interface Stage<I, O, S extends object = object> {
  /** The stage's name in the data-flow line (`clock`, `dsp`, `align`, `decode`, …). */
  readonly name: string;
  /** Everything the stage remembers between inputs. */
  readonly state: S;
  push(input: I, now: number): O[];
  /** Forget everything (a new session, a stream restart). */
  reset(): void;
}

/**
 * The same contract in ordered, queued form (the model stage): `push` takes the
 * input now (it reads it before returning) and its outputs come later, off the
 * event loop, strictly in push order. `settled` resolves when every input pushed
 * so far has produced its outputs.
 */
export interface OrderedStage<I, O, S extends object = object> {
  readonly name: string;
  readonly state: S;
  push(input: I, now: number): Promise<O[]>;
  settled(): Promise<void>;
  reset(): void;
}

/**
 * The one RxJS adapter: any synchronous stage as an operator, for users who
 * compose their own pipelines from observables (LSL sources, sinks). `clock`
 * gives `now` for each input (default: the wall clock in seconds).
 */
export function stageOperator<I, O>(stage: Stage<I, O>, clock: () => number = localClock): OperatorFunction<I, O> {
  return (source) =>
    new Observable<O>((sub) =>
      source.subscribe({
        next: (x) => {
          let out: O[];
          try {
            out = stage.push(x, clock());
          } catch (e) {
            sub.error(e);
            return;
          }
          for (const o of out) sub.next(o);
        },
        error: (e) => sub.error(e),
        complete: () => sub.complete(),
      }),
    );
}
