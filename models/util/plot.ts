/** Loss curves as a self-contained SVG (log-scale y), written without any dependency. */
export interface Series {
  name: string;
  points: [number, number][];
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];

export function lossSvg(title: string, series: Series[], width = 720, height = 400): string {
  const m = { l: 60, r: 160, t: 30, b: 40 };
  const all = series.flatMap((s) => s.points).filter(([, y]) => Number.isFinite(y) && y > 0);
  const xs = all.map(([x]) => x);
  const ys = all.map(([, y]) => Math.log10(y));
  const x0 = Math.min(...xs, 0);
  const x1 = Math.max(...xs, 1);
  let y0 = Math.min(...ys, 0);
  let y1 = Math.max(...ys, 1);
  if (y1 - y0 < 0.5) {
    y0 -= 0.25;
    y1 += 0.25;
  }
  const W = width - m.l - m.r;
  const H = height - m.t - m.b;
  const px = (x: number) => m.l + ((x - x0) / (x1 - x0 || 1)) * W;
  const py = (y: number) => m.t + (1 - (Math.log10(y) - y0) / (y1 - y0 || 1)) * H;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${m.l}" y="18" font-size="14">${title}</text>`,
    `<rect x="${m.l}" y="${m.t}" width="${W}" height="${H}" fill="none" stroke="#888"/>`,
  ];
  for (let e = Math.ceil(y0); e <= Math.floor(y1); e++) {
    const y = m.t + (1 - (e - y0) / (y1 - y0)) * H;
    parts.push(`<line x1="${m.l}" x2="${m.l + W}" y1="${y}" y2="${y}" stroke="#eee"/><text x="${m.l - 6}" y="${y + 4}" text-anchor="end">1e${e}</text>`);
  }
  for (let i = 0; i <= 4; i++) {
    const x = x0 + ((x1 - x0) * i) / 4;
    parts.push(`<text x="${px(x)}" y="${m.t + H + 16}" text-anchor="middle">${Math.round(x)}</text>`);
  }
  parts.push(`<text x="${m.l + W / 2}" y="${height - 6}" text-anchor="middle">step</text>`);
  series.forEach((s, i) => {
    const pts = s.points.filter(([, y]) => Number.isFinite(y) && y > 0);
    if (!pts.length) return;
    const c = COLORS[i % COLORS.length];
    parts.push(`<polyline fill="none" stroke="${c}" stroke-width="1.5" points="${pts.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ')}"/>`);
    parts.push(`<line x1="${m.l + W + 10}" x2="${m.l + W + 30}" y1="${m.t + 10 + i * 18}" y2="${m.t + 10 + i * 18}" stroke="${c}" stroke-width="2"/>`);
    parts.push(`<text x="${m.l + W + 34}" y="${m.t + 14 + i * 18}">${s.name}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}
