/**
 * Repairs non-finite samples (NaN, ±Inf) before the clock and DSP stages: each is
 * replaced by the channel's last finite value (0 before any), so filters and
 * features are never poisoned. The recording keeps the original values.
 */
import type { SignalChunk, StreamId } from '../types.ts';
import { logger } from '../log.ts';

const log = logger('acquire.repair');

export class NonFiniteRepair {
  private readonly last = new Map<StreamId, Float32Array>();
  private readonly counts = new Map<StreamId, number>();
  private lastWarn = -Infinity;

  /** Total non-finite values repaired per stream so far. */
  repaired(stream: StreamId): number {
    return this.counts.get(stream) ?? 0;
  }

  /** Returns the chunk unchanged when clean, else a repaired copy. */
  process(c: SignalChunk): SignalChunk {
    const C = c.channels.length;
    if (C === 0) return c;
    let held = this.last.get(c.stream);
    if (!held || held.length !== C) this.last.set(c.stream, (held = new Float32Array(C)));
    let out: Float32Array | undefined;
    let bad = 0;
    const d = c.data;
    for (let i = 0; i < d.length; i++) {
      const v = d[i]!;
      const ch = i % C;
      if (Number.isFinite(v)) {
        held[ch] = v;
        if (out) out[i] = v;
      } else {
        out ??= Float32Array.from(d.subarray(0, i));
        if (out.length < d.length) {
          const grown = new Float32Array(d.length);
          grown.set(out);
          out = grown;
        }
        out[i] = held[ch]!;
        bad++;
      }
    }
    if (!out) return c;
    this.counts.set(c.stream, this.repaired(c.stream) + bad);
    const now = Date.now();
    if (now - this.lastWarn > 5000) {
      this.lastWarn = now;
      log.warn({ stream: c.stream, nonFinite: bad, total: this.repaired(c.stream) }, 'non-finite samples replaced by the last finite value of their channel');
    }
    return { ...c, data: out };
  }
}
