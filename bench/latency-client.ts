/**
 * Client process for bench/latency: connects to the intent socket and prints one
 * line per intent, "seq receiveTime latencyMs tEmit", receiveTime on the LSL clock
 * (same monotonic clock as the server, same machine).
 */
import { localClock } from '../adapters/lsl/index.ts';
import { NeuroxClient } from '../adapters/ws/client.ts';

const c = await NeuroxClient.connect(process.argv[2]!);
process.stdout.write('ready\n');
c.on('intent', (i) => process.stdout.write(`${i.seq} ${localClock()} ${i.latencyMs} ${i.tEmit}\n`));
c.on('close', () => process.exit(0));
