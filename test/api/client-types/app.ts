// A small app against the published client: its events and methods must type-check
// as written, and each @ts-expect-error line must be a type error.
import { NeuroxClient, type IntentMessage, type HealthMessage, type GapMessage } from 'neurox/client';

export async function app(url: string): Promise<void> {
  const c = await NeuroxClient.connect(url, { format: 'json', token: 'operator-token', reconnect: { minMs: 100, maxMs: 2000 } });
  c.on('intent', (i: IntentMessage) => {
    const label: string = i.label;
    const p: number = i.probs[label] ?? 0;
    const seq: number = i.seq;
    const ms: number | undefined = c.deliveryMs(i);
    c.feedback(seq, { reward: p > 0.5 ? 1 : -1, label });
    void ms;
  });
  c.on('health', (h: HealthMessage) => {
    const p99: number = h.latencyMs.p99;
    const bad: string[] = h.streams.flatMap((s) => s.badChannels);
    void p99, bad;
  });
  c.on('gap', (g: GapMessage) => {
    const missed: number = g.to - g.from + 1;
    const latest: number | undefined = g.latest?.seq;
    void missed, latest;
  });
  c.on('signal', (s) => void s.data[0]?.[0]);
  c.on('event', (e) => void (e.kind === 'safety'));
  c.on('close', (code: number, reason: string) => void [code, reason]);
  c.on('reconnecting', ({ attempt, delayMs }) => void (attempt + delayMs));
  c.subscribe(['signal', 'health'], { rate: 10, channels: [0, 1] });
  const ack = await c.control('record.start');
  const action: string | undefined = ack.action;
  const { rttMs } = await c.measureLatency(3);
  void action, rttMs;

  // @ts-expect-error: not a topic
  c.subscribe(['signals']);
  // @ts-expect-error: not a control action
  void c.control('self-destruct');
  // @ts-expect-error: intents carry a numeric seq
  c.on('intent', (i) => void (i.seq satisfies string));
  // @ts-expect-error: no such event
  c.on('intents', () => undefined);
  // @ts-expect-error: feedback needs a number seq
  c.feedback('3', { reward: 1 });
  c.close();
}
