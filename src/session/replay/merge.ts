/**
 * The time-ordered merge behind every replay source: acquired chunks keyed by
 * local time, popped smallest (t, seq) first so ties keep arrival order.
 */
import type { Chunk } from '../../types.ts';

/** Binary min-heap on (t, seq). */
export class Heap<T extends { t: number; seq: number }> {
  private a: T[] = [];
  get size(): number {
    return this.a.length;
  }
  peek(): T | undefined {
    return this.a[0];
  }
  private less(i: number, j: number): boolean {
    const x = this.a[i]!;
    const y = this.a[j]!;
    return x.t < y.t || (x.t === y.t && x.seq < y.seq);
  }
  push(v: T): void {
    const a = this.a;
    a.push(v);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }
  pop(): T | undefined {
    const a = this.a;
    if (a.length === 0) return undefined;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.less(l, m)) m = l;
        if (r < a.length && this.less(r, m)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

/** A chunk waiting in the merge, keyed by local time `t` and arrival `seq`. */
export interface Keyed {
  t: number;
  seq: number;
  chunk: Chunk;
}
