/** A tiny progress bar on stderr (no dependency). Quiet when stderr is not a TTY unless forced. */
export class Progress {
  private readonly total: number;
  private readonly label: string;
  private readonly t0 = performance.now();
  private last = 0;
  private readonly enabled: boolean;

  constructor(label: string, total: number, enabled = true) {
    this.label = label;
    this.total = total;
    this.enabled = enabled;
  }

  tick(done: number, info = ''): void {
    if (!this.enabled) return;
    const now = performance.now();
    if (done < this.total && now - this.last < 200) return;
    this.last = now;
    const frac = Math.min(1, done / this.total);
    const width = 24;
    const filled = Math.round(frac * width);
    const el = (now - this.t0) / 1000;
    const eta = frac > 0 ? (el / frac) * (1 - frac) : 0;
    const line = `${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${this.total} ${el.toFixed(0)}s eta ${eta.toFixed(0)}s ${info}`;
    if (process.stderr.isTTY) process.stderr.write(`\r${line.padEnd(100).slice(0, 160)}`);
    else if (done === this.total || Math.floor((done - 1) / Math.max(1, this.total / 10)) !== Math.floor(done / Math.max(1, this.total / 10))) {
      process.stderr.write(`${line}\n`);
    }
  }

  done(info = ''): void {
    this.tick(this.total, info);
    if (this.enabled && process.stderr.isTTY) process.stderr.write('\n');
  }
}
