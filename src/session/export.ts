/**
 * Export a recorded session (XDF) to EDF+ for clinicians' viewers: every regular
 * numeric stream's channels become EDF signals (streams are placed on the common
 * clock with the recorded clock offsets), and marker, gap and intent streams become
 * EDF+ annotations at their onsets relative to the first signal sample.
 */
import { readXdf } from '../../adapters/xdf/index.ts';
import { writeEdf, type EdfWriteSignal } from '../../adapters/edf/index.ts';

export interface ExportSummary {
  signals: number;
  annotations: number;
  seconds: number;
  /** Streams left out (irregular numeric streams cannot be EDF signals). */
  skipped: string[];
}

export async function exportXdfToEdf(xdfPath: string, edfPath: string, opts: { intents?: boolean } = {}): Promise<ExportSummary> {
  const f = await readXdf(xdfPath, { sync: true });
  const time = (s: (typeof f.streams)[number]) => s.syncedTimestamps ?? s.timestamps;
  const regular = f.streams.filter((s) => s.format !== 'string' && s.info.nominal_srate > 0 && s.nSamples > 0);
  if (regular.length === 0) throw new Error(`${xdfPath}: no regular numeric stream to export`);
  const t0 = Math.min(...regular.map((s) => time(s)[0]!));
  const signals: EdfWriteSignal[] = [];
  let seconds = 0;
  for (const s of regular) {
    const C = s.nChannels;
    const srate = s.info.nominal_srate;
    // Pad the start so every signal begins at t0 (EDF signals share one start time).
    const lead = Math.max(0, Math.round((time(s)[0]! - t0) * srate));
    const n = lead + s.nSamples;
    seconds = Math.max(seconds, n / srate);
    const data = s.data as ArrayLike<number | bigint>;
    for (let c = 0; c < C; c++) {
      const samples = new Float64Array(n);
      for (let i = 0; i < s.nSamples; i++) samples[lead + i] = Number(data[i * C + c]!);
      const ch = s.info.channels[c];
      signals.push({ label: `${ch?.label ?? `ch${c + 1}`}`.slice(0, 16), srate, samples, physicalDimension: ch?.unit ?? '' });
    }
  }
  const annotations: { onset: number; duration?: number; text: string }[] = [];
  for (const s of f.streams.filter((x) => x.format === 'string')) {
    const name = s.info.name;
    if (name === 'neurox-intents' && !opts.intents) continue;
    const values = s.data as string[];
    const ts = time(s);
    for (let i = 0; i < s.nSamples; i++) {
      const onset = ts[i]! - t0;
      if (onset < 0) continue;
      let text = values[i * s.nChannels]!;
      if (name === 'neurox-gaps') text = `gap ${text}`;
      else if (name === 'neurox-intents') {
        const j = JSON.parse(text) as { seq: number; label: string; confidence: number };
        text = `intent ${j.seq} ${j.label} ${j.confidence.toFixed(2)}`;
      }
      annotations.push({ onset, text });
    }
  }
  annotations.sort((a, b) => a.onset - b.onset);
  writeEdf(edfPath, { signals, annotations, recording: `neurox export of ${xdfPath.split('/').pop()}`.slice(0, 60) });
  return { signals: signals.length, annotations: annotations.length, seconds, skipped: f.streams.filter((s) => s.format !== 'string' && !regular.includes(s)).map((s) => s.info.name) };
}
