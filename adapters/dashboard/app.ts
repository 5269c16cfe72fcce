/// <reference lib="dom" />
/**
 * The dashboard page (bundled for the browser by serve.ts): live decimated
 * traces, per-stream health, an intent timeline with confidence, a latency
 * histogram, the adaptation state, and the controls the page's token allows.
 * The token comes from the page URL (`#token=…`) and is passed on the socket.
 */
import uPlot from 'uplot';
import { NeuroxClient } from '../ws/client.ts';
import { CONTROL_ROLES, roleAllows, type ControlAction, type IntentMessage, type SignalMessage } from '../ws/protocol.ts';

const $ = (id: string): HTMLElement => document.getElementById(id)!;
const TRACE_SECONDS = 5;
const TIMELINE_SECONDS = 30;
/** Latency histogram bins (ms). */
const BIN_MS = 0.5;
const BINS = 40;

/** What the page has seen, for people and for the browser test. */
const seen = { intents: 0, signal: 0, health: 0, latencies: 0, controls: [] as string[] };
(window as unknown as { neurox: typeof seen }).neurox = seen;

function token(): string | undefined {
  const m = /(?:^|[#&?])token=([^&]+)/.exec(location.hash + '&' + location.search.slice(1));
  return m ? decodeURIComponent(m[1]!) : undefined;
}

function width(el: HTMLElement): number {
  return Math.max(300, el.clientWidth - 10);
}

// ---------------------------------------------------------------- traces

let traces: uPlot | undefined;
let traceData: number[][] = [[]];
let traceNames: string[] = [];

function onSignal(m: SignalMessage): void {
  seen.signal++;
  if (!traces || m.names.join() !== traceNames.join()) {
    traceNames = m.names;
    traces?.destroy();
    traceData = [[], ...m.names.map(() => [])];
    const el = $('traces');
    traces = new uPlot({
      width: width(el), height: 260,
      scales: { x: { time: false } },
      axes: [{ label: 's' }, {}],
      series: [{ label: 't' }, ...m.names.map((n, k) => ({ label: n, stroke: `hsl(${(k * 67) % 360} 70% 40%)`, width: 1, points: { show: false } }))],
    }, traceData as uPlot.AlignedData, el);
    $('signal-info').textContent = `${m.stream} · ${m.srate.toFixed(0)} Hz decimated`;
  }
  const n = m.data[0]?.length ?? 0;
  for (let i = 0; i < n; i++) {
    traceData[0]!.push(m.t0 + i / m.srate);
    for (let k = 0; k < m.data.length; k++) {
      // Each channel offset by its index so the traces do not overlap.
      traceData[k + 1]!.push(m.data[k]![i]!);
    }
  }
  const t1 = traceData[0]![traceData[0]!.length - 1] ?? 0;
  let cut = 0;
  while (cut < traceData[0]!.length && traceData[0]![cut]! < t1 - TRACE_SECONDS) cut++;
  if (cut > 0) traceData = traceData.map((s) => s.slice(cut));
  traces.setData(traceData as uPlot.AlignedData);
}

// ---------------------------------------------------------------- intents and latency

let labels: string[] = [];
let timeline: uPlot | undefined;
let timelineData: (number | null)[][] = [[]];
const bins = new Array<number>(BINS).fill(0);
let histogram: uPlot | undefined;

function makeTimeline(ls: string[]): void {
  labels = ls;
  timeline?.destroy();
  timelineData = [[], ...ls.map(() => [])];
  const el = $('timeline');
  timeline = new uPlot({
    width: width(el), height: 180,
    scales: { x: { time: false }, y: { range: [0, 1] } },
    axes: [{ label: 's' }, { label: 'confidence' }],
    series: [{ label: 't' }, ...ls.map((l, k) => ({ label: l, stroke: `hsl(${(k * 137) % 360} 70% 45%)`, paths: () => null, points: { show: true, size: 5 } }))],
  }, timelineData as uPlot.AlignedData, el);
}

function makeHistogram(): void {
  const el = $('histogram');
  histogram = new uPlot({
    width: width(el), height: 180,
    scales: { x: { time: false } },
    // The last bin also holds everything slower.
    axes: [{ label: `ms (last bin: ≥ ${(BINS - 1) * BIN_MS} ms)` }, { label: 'intents' }],
    series: [{ label: 'ms' }, { label: 'intents', fill: 'rgba(40,110,200,0.5)', stroke: 'rgb(40,110,200)', paths: uPlot.paths.bars!({ size: [0.9, 100] }) }],
  }, [bins.map((_, k) => (k + 0.5) * BIN_MS), bins], el);
}

function onIntent(i: IntentMessage, c: NeuroxClient): void {
  seen.intents++;
  $('intent-count').textContent = String(seen.intents);
  if (!timeline || !labels.includes(i.label)) makeTimeline([...new Set([...labels, ...Object.keys(i.probs), i.label])]);
  timelineData[0]!.push(i.tFrame);
  labels.forEach((l, k) => timelineData[k + 1]!.push(l === i.label && !i.abstained ? i.confidence : null));
  const t1 = i.tFrame;
  let cut = 0;
  while (cut < timelineData[0]!.length && (timelineData[0]![cut] as number) < t1 - TIMELINE_SECONDS) cut++;
  if (cut > 0) timelineData = timelineData.map((s) => s.slice(cut));
  timeline!.setData(timelineData as uPlot.AlignedData);
  const li = document.createElement('li');
  li.textContent = `#${i.seq} ${i.label} ${i.confidence.toFixed(2)}${i.abstained ? ' (abstained)' : ''}`;
  const ul = $('intents');
  ul.prepend(li);
  while (ul.children.length > 8) ul.lastChild!.remove();
  // Latency as the app sees it when the clock offset is known, else the pipeline's own.
  const ms = c.deliveryMs(i) ?? i.latencyMs;
  bins[Math.min(BINS - 1, Math.max(0, Math.floor(ms / BIN_MS)))]!++;
  seen.latencies++;
  histogram?.setData([bins.map((_, k) => (k + 0.5) * BIN_MS), bins]);
}

// ---------------------------------------------------------------- health, status, controls

function renderControls(c: NeuroxClient): void {
  const box = $('controls');
  box.replaceChildren();
  for (const [action, needs] of Object.entries(CONTROL_ROLES) as [ControlAction, string][]) {
    if (!roleAllows(c.role, needs as never)) continue;
    const b = document.createElement('button');
    b.id = `ctl-${action.replace('.', '-')}`;
    b.textContent = action;
    b.onclick = () =>
      c.control(action).then(
        () => (($('control-result').textContent = `${action}: done`), seen.controls.push(action)),
        (e: Error) => ($('control-result').textContent = `${action}: ${e.message}`),
      );
    box.append(b);
  }
  if (!box.children.length) box.textContent = 'controls need a token (open the page with #token=…)';
}

async function main(): Promise<void> {
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/`;
  const c = await NeuroxClient.connect(url, { format: 'json', token: token() });
  makeHistogram();
  const channels = () => $('channels') as HTMLInputElement;
  const chosen = () => channels().value.split(',').map((s) => Number(s.trim())).filter((n) => Number.isInteger(n) && n >= 0).slice(0, 16);
  c.subscribe(['signal', 'health', 'event'], { rate: 10, channels: chosen() });
  channels().onchange = () => c.subscribe(['signal'], { channels: chosen() });
  const onHello = (h: NonNullable<NeuroxClient['hello']>) => {
    $('model').textContent = `${h.model.name} (${h.model.labels.join(', ')})`;
    $('role').textContent = h.role ?? 'read-only';
    $('conn').textContent = 'connected';
    makeTimeline(h.model.labels);
    renderControls(c);
  };
  // The first hello came with connect(); later ones follow reconnects.
  onHello(c.hello!);
  c.on('hello', onHello);
  c.on('close', () => ($('conn').textContent = 'disconnected: reconnecting'));
  c.on('status', (s) => {
    $('state').textContent = s.state + (s.warnings?.length ? ` · ${s.warnings.join('; ')}` : '');
    if (s.adaptation) $('adaptation').textContent = `adaptation ${s.adaptation.frozen ? 'frozen' : 'active'} · feedback ${s.adaptation.feedback} · saved heads ${s.adaptation.heads}`;
  });
  c.on('intent', (i) => onIntent(i, c));
  c.on('signal', onSignal);
  c.on('health', (h) => {
    seen.health++;
    const body = ($('health') as HTMLTableElement).tBodies[0]!;
    body.replaceChildren(...h.streams.map((s) => {
      const tr = document.createElement('tr');
      const cells = [s.name, `${s.rate.toFixed(1)} / ${s.nominal} Hz`, `${s.gaps} (${s.missingSamples} samples)`, s.badChannels.join(', ') || '–', `${(s.clockOffset * 1000).toFixed(2)} ms`];
      for (const [k, v] of cells.entries()) {
        const td = document.createElement('td');
        td.textContent = v;
        if (k === 3 && s.badChannels.length) td.className = 'bad';
        tr.append(td);
      }
      return tr;
    }));
    $('latency-info').textContent = `last minute: p50 ${h.latencyMs.p50.toFixed(2)} · p90 ${h.latencyMs.p90.toFixed(2)} · p99 ${h.latencyMs.p99.toFixed(2)} ms (n=${h.latencyMs.n})`;
    $('client-health').textContent = `this page: ${h.client.dropped} dropped, ${h.client.missedIntents} intents missed in ${h.client.gaps} gaps`;
  });
  c.on('event', (e) => ($('control-result').textContent = `${e.kind}: ${e.action}${e.detail ? ` (${e.detail})` : ''}`));
  void c.measureLatency(5).catch(() => undefined);
}

main().catch((e: Error) => ($('conn').textContent = `cannot connect: ${e.message}`));
