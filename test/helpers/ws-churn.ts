/**
 * Opens and closes WebSocket connections against a runtime, from its own process (so
 * the load does not slow the test's own clients): `count` connections spread evenly
 * over `seconds`, each waiting for the server's hello before closing. Prints one JSON
 * line: how many opened, got their hello, failed.
 *
 *   node --import tsx test/helpers/ws-churn.ts PORT COUNT SECONDS
 */
import WebSocket from 'ws';

const [portArg, countArg, secArg] = process.argv.slice(2);
const port = Number(portArg);
const count = Number(countArg);
const seconds = Number(secArg);
let opened = 0;
let hellos = 0;
let failed = 0;
let done = 0;
const t0 = Date.now();

function one(): Promise<void> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}`, 'neurox.v1.json');
    const finish = (ok: boolean) => {
      if (!ok) failed++;
      done++;
      resolve();
    };
    const timer = setTimeout(() => (ws.terminate(), finish(false)), 10000);
    ws.once('open', () => opened++);
    ws.once('message', (d) => {
      if (/"hello"/.test(String(d))) hellos++;
      ws.close(1000);
    });
    ws.once('close', () => (clearTimeout(timer), finish(true)));
    ws.once('error', () => undefined);
  });
}

const pending: Promise<void>[] = [];
for (let i = 0; i < count; i++) {
  const due = t0 + (i * seconds * 1000) / count;
  const wait = due - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  pending.push(one());
}
await Promise.all(pending);
process.stdout.write(JSON.stringify({ count, opened, hellos, failed, done, ms: Date.now() - t0 }) + '\n');
