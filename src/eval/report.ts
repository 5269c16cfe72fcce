/** Text, JSON and SVG reports of an evaluation (the SVG is written by hand: no dependency). */
import type { EvalResult } from './evaluate.ts';

const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(1)} %` : 'n/a');
const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : 'n/a');

export function textReport(r: EvalResult): string {
  const m = r.metrics;
  const w = Math.max(6, ...m.classes.map((c) => c.length));
  const lines = [
    `paradigm ${r.paradigm}; ${r.setting}`,
    `  train: ${r.train.join(', ')}`,
    ...(r.test.length ? [`  test:  ${r.test.join(', ')}`] : []),
    `trials ${m.trials} (${m.classes.map((c, i) => `${c} ${m.confusion[i]!.reduce((a, b) => a + b, 0)}`).join(', ')}); chance ${pct(m.chance)}`,
    `accuracy           ${pct(m.accuracy)}`,
    `balanced accuracy  ${pct(m.balancedAccuracy)}`,
    `ROC-AUC            ${f3(m.rocAuc)}${m.classes.length > 2 ? ' (one-vs-rest macro)' : ` (score: P(${m.classes[1]}))`}`,
    `ITR (Wolpaw)       ${f3(m.itrBitsPerTrial)} bits/trial, ${f3(m.itrBitsPerMin)} bits/min at ${f3(m.trialSeconds)} s/trial`,
    'confusion (rows = true, columns = predicted):',
    `  ${''.padEnd(w)}  ${m.classes.map((c) => c.padStart(w)).join('  ')}`,
    ...m.classes.map((c, i) => `  ${c.padEnd(w)}  ${m.confusion[i]!.map((v) => String(v).padStart(w)).join('  ')}`),
  ];
  return `${lines.join('\n')}\n`;
}

export function jsonReport(r: EvalResult): Record<string, unknown> {
  return {
    paradigm: r.paradigm,
    setting: r.setting,
    train: r.train,
    test: r.test,
    folds: r.folds,
    trainRows: r.trainRows,
    metrics: r.metrics,
    trials: r.trials.map((t) => ({ ...t, probs: Object.fromEntries(r.metrics.classes.map((c, i) => [c, t.probs[i]])) })),
  };
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];

/** Confusion matrix (left) and each test trial's probability of its true class (right). */
export function svgReport(r: EvalResult): string {
  const m = r.metrics;
  const K = m.classes.length;
  const cell = Math.min(70, 280 / K);
  const W = 980;
  const H = 420;
  const ox = 110;
  const oy = 90;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="20" y="24" font-size="15" font-weight="bold">${esc(`${r.paradigm}: ${r.setting}`)}</text>`);
  out.push(
    `<text x="20" y="44">${esc(`accuracy ${(100 * m.accuracy).toFixed(1)} %, balanced ${(100 * m.balancedAccuracy).toFixed(1)} %, AUC ${f3(m.rocAuc)}, ITR ${f3(m.itrBitsPerMin)} bits/min, ${m.trials} trials`)}</text>`,
  );
  // Confusion matrix, shaded by row-normalised rate.
  out.push(`<text x="${ox + (K * cell) / 2}" y="${oy - 22}" text-anchor="middle">predicted</text>`);
  out.push(`<text x="${ox - 70}" y="${oy + (K * cell) / 2}" text-anchor="middle" transform="rotate(-90 ${ox - 70} ${oy + (K * cell) / 2})">true</text>`);
  m.classes.forEach((c, j) => out.push(`<text x="${ox + j * cell + cell / 2}" y="${oy - 6}" text-anchor="middle">${esc(c)}</text>`));
  m.confusion.forEach((row, i) => {
    const n = row.reduce((a, b) => a + b, 0) || 1;
    out.push(`<text x="${ox - 6}" y="${oy + i * cell + cell / 2 + 4}" text-anchor="end">${esc(m.classes[i]!)}</text>`);
    row.forEach((v, j) => {
      const a = v / n;
      const shade = Math.round(255 * (1 - 0.8 * a));
      out.push(`<rect x="${ox + j * cell}" y="${oy + i * cell}" width="${cell}" height="${cell}" fill="rgb(${shade},${shade},255)" stroke="#333"/>`);
      out.push(`<text x="${ox + j * cell + cell / 2}" y="${oy + i * cell + cell / 2 + 4}" text-anchor="middle" fill="${a > 0.6 ? 'white' : 'black'}">${v}</text>`);
    });
  });
  // Per-trial probability of the true class.
  const px = 470;
  const py = 70;
  const pw = 480;
  const ph = 300;
  out.push(`<rect x="${px}" y="${py}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  for (const v of [0, 0.25, 0.5, 0.75, 1]) {
    const y = py + ph * (1 - v);
    out.push(`<line x1="${px - 4}" x2="${px}" y1="${y}" y2="${y}" stroke="#333"/><text x="${px - 8}" y="${y + 4}" text-anchor="end">${v}</text>`);
  }
  const chanceY = py + ph * (1 - m.chance);
  out.push(`<line x1="${px}" x2="${px + pw}" y1="${chanceY}" y2="${chanceY}" stroke="#999" stroke-dasharray="4 3"/>`);
  out.push(`<text x="${px + pw / 2}" y="${py + ph + 30}" text-anchor="middle">test trial (time order)</text>`);
  out.push(`<text x="${px - 40}" y="${py + ph / 2}" text-anchor="middle" transform="rotate(-90 ${px - 40} ${py + ph / 2})">P(true class)</text>`);
  const n = r.trials.length;
  r.trials.forEach((t, k) => {
    const ci = m.classes.indexOf(t.label);
    const p = t.probs[ci] ?? 0;
    const x = px + ((k + 0.5) / n) * pw;
    const y = py + ph * (1 - p);
    const ok = t.pred === t.label;
    out.push(`<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="4" fill="${ok ? PALETTE[ci % PALETTE.length] : 'white'}" stroke="${PALETTE[ci % PALETTE.length]}" stroke-width="1.5"><title>${esc(`${t.file} @ ${t.onset.toFixed(2)} s: ${t.label} → ${t.pred} (p=${p.toFixed(3)})`)}</title></circle>`);
  });
  m.classes.forEach((c, i) => {
    const x = px + 10 + i * 110;
    out.push(`<circle cx="${x}" cy="${py + ph + 52}" r="4" fill="${PALETTE[i % PALETTE.length]}"/><text x="${x + 8}" y="${py + ph + 56}">${esc(c)}</text>`);
  });
  out.push(`<text x="${px + pw}" y="${py + ph + 56}" text-anchor="end">hollow = misclassified</text>`);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
