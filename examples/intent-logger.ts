/**
 * Example app on `neurox/client`: prints intents with their delivery latency,
 * gives feedback on each one (reward 1 when the label matches a cue you type,
 * here simply every 10th intent), reports gaps and health, and survives server
 * restarts (the client reconnects with back-off).
 *
 *   npm start                                   # simulator + runtime
 *   node --import tsx examples/intent-logger.ts [ws://127.0.0.1:8765] [token]
 */
import { NeuroxClient } from 'neurox/client';

const url = process.argv[2] ?? 'ws://127.0.0.1:8765';
const token = process.argv[3] ?? process.env.NEUROX_TOKEN;

const c = await NeuroxClient.connect(url, { token, reconnect: { minMs: 250, maxMs: 5000 } });
process.stdout.write(`connected to ${c.hello!.server} (protocol ${c.hello!.version ?? c.hello!.protocol}), model ${c.hello!.model.name}, role ${c.role ?? 'read-only'}\n`);
await c.measureLatency(5);
c.subscribe(['health', 'event'], { rate: 0.2 });

c.on('intent', (i) => {
  const ms = c.deliveryMs(i);
  process.stdout.write(`#${i.seq} ${i.label.padEnd(8)} ${i.confidence.toFixed(2)}  pipeline ${i.latencyMs.toFixed(2)} ms, delivered ${ms?.toFixed(2) ?? '?'} ms\n`);
  if (i.seq % 10 === 0) c.feedback(i.seq, { reward: 1 });
});
c.on('gap', (g) => process.stdout.write(`missed intents ${g.from}..${g.to}; latest is #${g.latest?.seq}\n`));
c.on('health', (h) => process.stdout.write(`health: ${h.streams.map((s) => `${s.name} ${s.rate.toFixed(0)} Hz, ${s.gaps} gaps, bad: ${s.badChannels.join(',') || 'none'}`).join('; ')}; latency p99 ${h.latencyMs.p99.toFixed(2)} ms\n`));
c.on('event', (e) => process.stdout.write(`event: ${e.kind} ${e.action}\n`));
c.on('error', (e) => process.stdout.write(`server error: ${e.code}: ${e.message}\n`));
c.on('reconnecting', (r) => process.stdout.write(`connection lost; retry ${r.attempt} in ${r.delayMs.toFixed(0)} ms\n`));
process.on('SIGINT', () => (c.close(), process.exit(0)));
