/**
 * Real recordings: PhysioNet EEGMMIDB subject S001, runs 3–6 (64-ch EEG, 160 Hz).
 *
 * 1. The whole causal chain runs on every run without error, streamed in irregular chunks.
 * 2. Event-related desynchronisation: log band power (BandPower operator, Welch, 1 s windows)
 *    of mu (8–13 Hz) and beta (13–30 Hz) at C3 and C4 is lower during imagined hand movement
 *    than at rest (Pfurtscheller & Lopes da Silva 1999). Hand imagery trials: R04 T1/T2 (left/right
 *    fist), R06 T1 (both fists); R06 T2 (feet) is not a hand task and is left out. Rest: T0 of
 *    both runs. Pipeline: band-pass 1–40 Hz (order 4), notch 60 Hz, common average reference.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { from, lastValueFrom, toArray } from 'rxjs';
import { readEdf } from '../../adapters/edf/index.ts';
import {
  bandpass,
  notch,
  car,
  resample,
  bandPower,
  detectBadChannels,
  detectArtifacts,
  highpass,
  BANDPOWER_SUFFIX,
} from '../../src/dsp/index.ts';
import type { Chunk, SignalChunk } from '../../src/types.ts';
import { tenTenPosition } from '../../devices/geometry.ts';
import { dataFile } from '../helpers/data.ts';

function load(run: string) {
  const rel = `eegmmidb/S001${run}.edf`;
  const rec = readEdf(dataFile(rel));
  const sigs = rec.signals;
  const C = sigs.length;
  const n = sigs[0]!.samples.length;
  const fs = sigs[0]!.srate;
  const data = new Float32Array(n * C);
  for (let c = 0; c < C; c++) for (let i = 0; i < n; i++) data[i * C + c] = sigs[c]!.samples[i]!;
  const channels = sigs.map((s) => {
    let pos: [number, number, number] | undefined;
    try { pos = tenTenPosition(s.label.replace(/\./g, '')) as [number, number, number]; } catch { pos = undefined; }
    return { label: s.label, type: 'EEG', unit: s.physicalDimension || 'uV', pos };
  });
  return { rec, data, channels, n, C, fs };
}

/** Split a recording into chunks of irregular sizes (deterministic). */
function chunks(run: ReturnType<typeof load>, stream: string): SignalChunk[] {
  const out: SignalChunk[] = [];
  const sizes = [1, 16, 7, 160, 33, 64];
  let k = 0;
  for (let i = 0; i < run.n;) {
    const m = Math.min(sizes[k++ % sizes.length]!, run.n - i);
    const ts = new Float64Array(m);
    for (let j = 0; j < m; j++) ts[j] = (i + j) / run.fs;
    out.push({ kind: 'signal', stream, data: run.data.slice(i * run.C, (i + m) * run.C), timestamps: ts, channels: run.channels, srate: run.fs });
    i += m;
  }
  return out;
}

const RUNS = ['R03', 'R04', 'R05', 'R06'];

test('full operator chain runs on EEGMMIDB runs 3–6 without error', async () => {
  for (const r of RUNS) {
    const run = load(r);
    const badEvents: string[] = [];
    let frames = 0, blinks = 0, amp = 0, grad = 0;
    const out = await lastValueFrom(
      from(chunks(run, 'eeg') as Chunk[]).pipe(
        detectBadChannels({ lineFreq: 60, onEvent: (e) => { if (e.bad) badEvents.push(`${e.label}:${e.reasons.join('+')}@${e.t.toFixed(1)}`); } }),
        detectArtifacts({ onFrame: (f) => { frames++; if (f.blink) blinks++; if (f.amplitude.length) amp++; if (f.gradient.length) grad++; } }),
        highpass({ cutoff: 0.5, order: 2 }),
        bandpass({ lo: 1, hi: 40 }),
        notch({ freq: 60 }),
        car(),
        resample({ fsOut: 100 }),
        bandPower({ keepSignal: true, hopSec: 0.5 }),
        toArray(),
      ),
    );
    const sig = out.filter((c): c is SignalChunk => c.kind === 'signal' && c.stream === 'eeg');
    const bp = out.filter((c): c is SignalChunk => c.kind === 'signal' && c.stream === 'eeg' + BANDPOWER_SUFFIX);
    const nOut = sig.reduce((a, c) => a + c.timestamps.length, 0);
    assert.ok(Math.abs(nOut - (run.n * 100) / 160) < 3, `${r}: ${nOut} resampled samples`);
    for (const c of [...sig, ...bp]) for (const v of c.data) assert.ok(Number.isFinite(v), `${r}: non-finite output`);
    assert.ok(bp.length > 0);
    const markers = out.filter((c) => c.kind === 'marker').length;
    process.stdout.write(`# ${r}: ${nOut} samples @100 Hz, ${bp.reduce((a, c) => a + c.timestamps.length, 0)} band-power frames (${bp[0]!.channels.length} ch×band), ${markers} marker chunks; artifact frames ${frames}: blink ${blinks}, amplitude ${amp}, gradient ${grad}; bad-channel decisions: ${badEvents.join(', ') || 'none'}\n`);
  }
});

test('mu/beta desynchronisation at C3/C4: imagery < rest (printed)', async () => {
  const bands = [{ name: 'mu', lo: 8, hi: 13 }, { name: 'beta', lo: 13, hi: 30 }];
  const sites = ['C3..', 'C4..'];
  const acc: Record<string, { rest: number[]; imagery: number[] }> = {};
  for (const s of sites) for (const b of bands) acc[`${s}|${b.name}`] = { rest: [], imagery: [] };
  for (const r of ['R04', 'R06']) {
    const run = load(r);
    const out = await lastValueFrom(
      from(chunks(run, 'eeg') as Chunk[]).pipe(
        bandpass({ lo: 1, hi: 40 }),
        notch({ freq: 60 }),
        car(),
        bandPower({ bands, windowSec: 1, hopSec: 0.125, method: 'welch', segmentSec: 0.5 }),
        toArray(),
      ),
    );
    const frames = out.filter((c): c is SignalChunk => c.kind === 'signal');
    const chLabels = frames[0]!.channels.map((c) => c.label);
    const rows: { t: number; v: Float32Array }[] = [];
    for (const f of frames) {
      const W = f.channels.length;
      for (let i = 0; i < f.timestamps.length; i++) rows.push({ t: f.timestamps[i]!, v: f.data.subarray(i * W, (i + 1) * W) });
    }
    for (const a of run.rec.annotations) {
      const cls = a.text === 'T0' ? 'rest' : a.text === 'T1' || (a.text === 'T2' && r === 'R04') ? 'imagery' : null;
      if (!cls) continue;
      // windows [t−1 s, t] lying inside [onset + 0.5 s, onset + duration]
      const sel = rows.filter((q) => q.t - 1 >= a.onset + 0.5 && q.t <= a.onset + a.duration);
      if (sel.length === 0) continue;
      for (const s of sites) for (const b of bands) {
        const j = chLabels.indexOf(`${s}:${b.name}`);
        assert.ok(j >= 0);
        acc[`${s}|${b.name}`]![cls].push(sel.reduce((m, q) => m + q.v[j]!, 0) / sel.length);
      }
    }
  }
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  const report: Record<string, unknown> = {};
  for (const [k, { rest, imagery }] of Object.entries(acc)) {
    const d = mean(imagery) - mean(rest);
    report[k] = { rest: Number(mean(rest).toFixed(3)), imagery: Number(mean(imagery).toFixed(3)), diffLn: Number(d.toFixed(3)), erdPercent: Number((100 * (Math.exp(d) - 1)).toFixed(1)), nRest: rest.length, nImagery: imagery.length };
  }
  process.stdout.write(`# ERD (ln band power, imagery − rest): ${JSON.stringify(report)}\n`);
  for (const [k, { rest, imagery }] of Object.entries(acc)) {
    assert.ok(rest.length >= 20 && imagery.length >= 20, `${k}: trials ${rest.length}/${imagery.length}`);
    assert.ok(mean(imagery) < mean(rest), `${k}: imagery ${mean(imagery)} not below rest ${mean(rest)}`);
  }
});
