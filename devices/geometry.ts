/**
 * Electrode geometry for the simulated devices (pure math, no I/O).
 *
 * Coordinate frame everywhere: RAS — x to the right ear, y to the nose, z to the vertex.
 *  - EEG (10-10): unit sphere centred in the head, computed from the idealised spherical
 *    10-10 construction (Jasper 1958; Chatrian et al. 1985; Oostenveld & Praamstra 2001):
 *    Cz at the pole, Fpz/T7/Oz/T8 on the equator, midline and coronal arcs split in 10 %
 *    steps of the 180° nasion–inion / preauricular arcs (22.5° each above the equator),
 *    and the equatorial ring split in 18° steps. A row (e.g. F7…Fz…F8) is the circle on
 *    the sphere through its two equatorial end points and its midline point, and its
 *    electrodes are spaced evenly along that arc.
 *  - SEEG / ECoG: millimetres, MNI-like (approximate, for simulation only).
 *  - MEG: metres, sensor positions on a helmet surface.
 */

export type Vec3 = [number, number, number];

const DEG = Math.PI / 180;

export const norm = (v: Vec3): number => Math.hypot(v[0], v[1], v[2]);
export const normalize = (v: Vec3): Vec3 => {
  const n = norm(v) || 1;
  return [v[0] / n, v[1] / n, v[2] / n];
};
export const sub = (a: Vec3, b: Vec3): Vec3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
export const add = (a: Vec3, b: Vec3): Vec3 => [a[0] + b[0], a[1] + b[1], a[2] + b[2]];
export const scale = (a: Vec3, s: number): Vec3 => [a[0] * s, a[1] * s, a[2] * s];
export const dot = (a: Vec3, b: Vec3): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
export const cross = (a: Vec3, b: Vec3): Vec3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
export const dist2 = (a: Vec3, b: Vec3): number => {
  const dx = a[0] - b[0], dy = a[1] - b[1], dz = a[2] - b[2];
  return dx * dx + dy * dy + dz * dz;
};
const r4 = (x: number): number => Math.round(x * 1e4) / 1e4 + 0; // + 0 turns -0 into 0
const round4 = (v: Vec3): Vec3 => [r4(v[0]), r4(v[1]), r4(v[2])];

/** Point on the equator, `az` degrees from the nose towards the LEFT ear (negative = right). */
function equator(azDeg: number, elevDeg = 0): Vec3 {
  const a = azDeg * DEG, e = elevDeg * DEG;
  return [-Math.sin(a) * Math.cos(e), Math.cos(a) * Math.cos(e), Math.sin(e)];
}

/** Point on the midline, `deg` degrees from Cz towards the nose (negative = towards the inion). */
function midline(deg: number): Vec3 {
  return [0, Math.sin(deg * DEG), Math.cos(deg * DEG)];
}

/** Rotate u (perpendicular to unit axis n) by angle a about n. */
function rot(u: Vec3, n: Vec3, a: number): Vec3 {
  const c = Math.cos(a), s = Math.sin(a);
  const nxu = cross(n, u);
  return [u[0] * c + nxu[0] * s, u[1] * c + nxu[1] * s, u[2] * c + nxu[2] * s];
}

/** Point at fraction f along the sphere circle through A (left end), M (midline), A' (mirror of A). */
function rowPoint(A: Vec3, M: Vec3, f: number): Vec3 {
  const Ar: Vec3 = [-A[0], A[1], A[2]];
  const n = normalize(cross(sub(M, A), sub(Ar, A)));
  const c = scale(n, dot(n, A));
  const u = sub(A, c), v = sub(M, c);
  const theta = Math.acos(Math.max(-1, Math.min(1, dot(u, v) / (norm(u) * norm(v)))));
  let p = rot(u, n, theta * f);
  const check = rot(u, n, theta);
  if (dist2(check, v) > 1e-9) p = rot(u, n, -theta * f);
  return normalize(add(c, p));
}

/**
 * Row table of the 10-10 system (left half + midline): the left equatorial end point's
 * azimuth (degrees from the nose), the midline point's angle from Cz (+ towards the nose),
 * and the electrode names from the lateral end (fraction 0) to the midline (fraction 1),
 * at 1/4 steps. Right-hemisphere names mirror them (odd → even numbers).
 */
const ROWS: { az: number; mid: number; names: (string | null)[] }[] = [
  { az: 36, mid: 67.5, names: ['AF7', 'AF5', 'AF3', 'AF1', 'AFz'] },
  { az: 54, mid: 45, names: ['F7', 'F5', 'F3', 'F1', 'Fz'] },
  { az: 72, mid: 22.5, names: ['FT7', 'FC5', 'FC3', 'FC1', 'FCz'] },
  { az: 90, mid: 0, names: ['T7', 'C5', 'C3', 'C1', 'Cz'] },
  { az: 108, mid: -22.5, names: ['TP7', 'CP5', 'CP3', 'CP1', 'CPz'] },
  { az: 126, mid: -45, names: ['P7', 'P5', 'P3', 'P1', 'Pz'] },
  { az: 144, mid: -67.5, names: ['PO7', 'PO5', 'PO3', 'PO1', 'POz'] },
];

const mirrorName = (name: string): string =>
  name.replace(/(\d+)$/, (d) => String(Number(d) + 1));

/** All 10-10 positions this module knows (unit sphere). */
export const TEN_TEN: Readonly<Record<string, Vec3>> = (() => {
  const out: Record<string, Vec3> = {};
  for (const r of ROWS) {
    const A = equator(r.az);
    const M = midline(r.mid);
    r.names.forEach((name, i) => {
      if (!name) return;
      const p = rowPoint(A, M, i / 4);
      out[name] = round4(p);
      if (!name.endsWith('z')) out[mirrorName(name)] = round4([-p[0], p[1], p[2]]);
    });
  }
  // equatorial ring (Fp, O) and the 10 % below-equator positions
  out.Fpz = round4(equator(0));
  out.Fp1 = round4(equator(18));
  out.Fp2 = round4(equator(-18));
  out.Oz = round4(equator(180));
  out.O1 = round4(equator(162));
  out.O2 = round4(equator(-162));
  out.Iz = round4(equator(180, -22.5));
  out.T9 = round4(equator(90, -22.5));
  out.T10 = round4(equator(-90, -22.5));
  out.Nz = round4(equator(0, -22.5));
  return out;
})();

/** EEGMMIDB (PhysioNet EEG Motor Movement/Imagery) 64-channel order, standard 10-10 spelling. */
export const EEGMMIDB_LABELS: readonly string[] = [
  'FC5', 'FC3', 'FC1', 'FCz', 'FC2', 'FC4', 'FC6', 'C5', 'C3', 'C1', 'Cz', 'C2', 'C4', 'C6',
  'CP5', 'CP3', 'CP1', 'CPz', 'CP2', 'CP4', 'CP6', 'Fp1', 'Fpz', 'Fp2', 'AF7', 'AF3', 'AFz',
  'AF4', 'AF8', 'F7', 'F5', 'F3', 'F1', 'Fz', 'F2', 'F4', 'F6', 'F8', 'FT7', 'FT8', 'T7', 'T8',
  'T9', 'T10', 'TP7', 'TP8', 'P7', 'P5', 'P3', 'P1', 'Pz', 'P2', 'P4', 'P6', 'P8', 'PO7', 'PO3',
  'POz', 'PO4', 'PO8', 'O1', 'Oz', 'O2', 'Iz',
];

/**
 * Map an EDF-style label (EEGMMIDB writes `Fc5.`, `C3..`, `Fpz.`) to standard 10-10
 * spelling (`FC5`, `C3`, `Fpz`). Unknown shapes are returned trimmed, dots removed.
 */
export function normalizeEegLabel(raw: string): string {
  const s = raw.trim().replace(/\.+$/, '').replace(/^EEG\s+/i, '');
  const m = /^([A-Za-z]+?)(z|Z|\d+)$/.exec(s);
  if (!m) return s;
  const prefix = m[1].toLowerCase() === 'fp' ? 'Fp' : m[1].toUpperCase();
  const suffix = /^\d+$/.test(m[2]) ? m[2] : 'z';
  return prefix + suffix;
}

/** Unit-sphere position of a 10-10 label (accepts EDF spellings). */
export function tenTenPosition(label: string): Vec3 {
  const p = TEN_TEN[normalizeEegLabel(label)];
  if (!p) throw new Error(`unknown 10-10 label '${label}'`);
  return p;
}

/** `n` roughly uniform points on the unit sphere with z ≥ zMin (golden-angle spiral). */
export function fibonacciCap(n: number, zMin = -0.3): Vec3[] {
  const out: Vec3[] = [];
  const golden = Math.PI * (3 - Math.sqrt(5));
  for (let i = 0; i < n; i++) {
    const z = 1 - ((i + 0.5) / n) * (1 - zMin);
    const r = Math.sqrt(Math.max(0, 1 - z * z));
    const a = i * golden;
    out.push(round4([r * Math.cos(a), r * Math.sin(a), z]));
  }
  return out;
}

// ---------------------------------------------------------------- SEEG

/** One depth shaft: deepest contact position (mm, MNI-like) and direction towards the entry point. */
export interface ShaftSpec {
  name: string;
  region: string;
  target: Vec3;
  direction: Vec3;
  contacts: number;
}

/** Inter-contact spacing along a shaft (mm), as in common 0.8 mm-diameter SEEG electrodes. */
export const SEEG_SPACING_MM = 3.5;

const LEFT_SHAFTS: ShaftSpec[] = [
  { name: 'LA', region: 'amygdala', target: [-20, -4, -20], direction: [-1, 0.05, 0.05], contacts: 10 },
  { name: 'LH', region: 'hippocampus', target: [-27, -21, -13], direction: [-1, 0.0, 0.08], contacts: 12 },
  { name: 'LAI', region: 'anterior insula / inferior frontal gyrus', target: [-31, 18, 2], direction: [-1, 0.12, 0.12], contacts: 12 },
  { name: 'LOF', region: 'orbitofrontal cortex', target: [-16, 36, -14], direction: [-0.85, 0.35, 0.25], contacts: 12 },
  { name: 'LPI', region: 'posterior insula / supramarginal', target: [-35, -14, 12], direction: [-1, -0.05, 0.18], contacts: 12 },
  { name: 'LT', region: "Heschl's gyrus / superior temporal gyrus", target: [-30, -24, 8], direction: [-1, 0.08, -0.08], contacts: 14 },
];

/** The SEEG implantation: 6 left shafts and their right-hemisphere mirrors. */
export const SEEG_SHAFTS: readonly ShaftSpec[] = [
  ...LEFT_SHAFTS,
  ...LEFT_SHAFTS.map((s) => ({
    ...s,
    name: 'R' + s.name.slice(1),
    target: [-s.target[0] + 1, s.target[1] + 1, s.target[2]] as Vec3, // slight asymmetry
    direction: [-s.direction[0], s.direction[1], s.direction[2]] as Vec3,
  })),
];

/** Contact position (mm): contact 1 = deepest = the shaft target. */
export function seegContactPosition(s: ShaftSpec, contact: number): Vec3 {
  const d = normalize(s.direction);
  const p = add(s.target, scale(d, (contact - 1) * SEEG_SPACING_MM));
  return [Math.round(p[0] * 100) / 100, Math.round(p[1] * 100) / 100, Math.round(p[2] * 100) / 100];
}

// ---------------------------------------------------------------- ECoG

/** 8×8 grid, 10 mm pitch, on the left lateral convexity (sensorimotor / temporal), mm. */
export function ecogGridPositions(rows = 8, cols = 8, pitchMm = 10): Vec3[] {
  const centre: Vec3 = [0, -18, 12];
  const R = 78;
  const d0 = normalize([-0.92, 0.08, 0.38]);
  // tangents: e1 points anterior (y), e2 points superior (z), both orthogonal to d0
  const e1 = normalize(cross([0, 0, 1], d0)).map((x) => -x) as Vec3;
  const e2 = normalize(cross(d0, e1));
  const up = e2[2] >= 0 ? e2 : (scale(e2, -1) as Vec3);
  const out: Vec3[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      // row 0 is the most superior row, column 0 the most anterior electrode
      const u = ((cols - 1) / 2 - c) * pitchMm / R;
      const v = ((rows - 1) / 2 - r) * pitchMm / R;
      // azimuthal-equidistant placement: arc length from the centre is exact
      const th = Math.hypot(u, v);
      const t = th > 0 ? normalize(add(scale(e1, u), scale(up, v))) : e1;
      const dir = normalize(add(scale(d0, Math.cos(th)), scale(t, Math.sin(th))));
      const p = add(centre, scale(dir, R));
      out.push([Math.round(p[0] * 100) / 100, Math.round(p[1] * 100) / 100, Math.round(p[2] * 100) / 100]);
    }
  }
  return out;
}

// ---------------------------------------------------------------- MEG

/** `n` magnetometer positions (metres) on a helmet: a cap of a 0.12 m sphere centred 4 cm above the head centre. */
export function megHelmetPositions(n = 102): Vec3[] {
  return fibonacciCap(n, -0.35).map((u) => {
    // flatten the face region a little: push frontal-low sensors up
    const p: Vec3 = [u[0] * 0.12, u[1] * 0.12 + (u[1] > 0.6 && u[2] < 0 ? -0.01 : 0), u[2] * 0.12 + 0.04];
    return [Math.round(p[0] * 1e5) / 1e5, Math.round(p[1] * 1e5) / 1e5, Math.round(p[2] * 1e5) / 1e5];
  });
}
