/**
 * The dashboard in a real browser (headless Debian Chromium driven by
 * playwright-core) against `neurox run` with the simulator: traces draw (a
 * non-blank canvas), intents appear, the latency histogram fills, the page
 * raises no errors (CSP, scripts), and the arm control is absent without a token
 * and present with the clinician token the runtime printed. Saves screenshots
 * under test-results/. Skips when /usr/bin/chromium is not installed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { ROOT, startRuntime } from '../helpers/runtime.ts';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Pixels of a canvas under `sel` that are not transparent or white. */
function inked(page: Page, sel: string): Promise<number> {
  return page.evaluate((s) => {
    const c = document.querySelector(`${s} canvas`) as HTMLCanvasElement | null;
    if (!c) return 0;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i + 3]! > 0 && (d[i]! < 240 || d[i + 1]! < 240 || d[i + 2]! < 240)) n++;
    return n;
  }, sel);
}

test('dashboard: traces, intents, latency histogram; controls only with a token of the right role', { timeout: 180000 }, async (t) => {
  if (!existsSync(CHROMIUM)) {
    t.skip(`${CHROMIUM} is not installed (apt-get install -y chromium)`);
    return;
  }
  const rt = await startRuntime('dash', ['--no-record']);
  const profile = mkdtempSync(join(tmpdir(), 'neurox-chromium-'));
  const ctx = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: [...FLAGS.slice(1), `--user-data-dir=${profile}`].filter((a) => !a.startsWith('--user-data-dir')), viewport: { width: 1400, height: 1000 } });
  try {
    const page = ctx.pages()[0] ?? (await ctx.newPage());
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    // Nothing may be fetched beyond the runtime's own port.
    const foreign: string[] = [];
    page.on('request', (r) => !r.url().startsWith(`http://127.0.0.1:${rt.port}/`) && !r.url().startsWith(`ws://127.0.0.1:${rt.port}/`) && foreign.push(r.url()));
    await page.goto(`http://127.0.0.1:${rt.port}/`);
    await page.waitForFunction(() => {
      const n = (window as unknown as { neurox?: { intents: number; signal: number; latencies: number; health: number } }).neurox;
      return !!n && n.intents >= 10 && n.signal >= 5 && n.latencies >= 10 && n.health >= 2;
    }, undefined, { timeout: 60000, polling: 200 });
    await page.waitForTimeout(500);
    const seen = await page.evaluate(() => (window as unknown as { neurox: object }).neurox);
    t.diagnostic(`page saw ${JSON.stringify(seen)}`);
    const traces = await inked(page, '#traces');
    const hist = await inked(page, '#histogram');
    const timeline = await inked(page, '#timeline');
    t.diagnostic(`inked pixels: traces ${traces}, histogram ${hist}, timeline ${timeline}`);
    assert.ok(traces > 2000, 'traces drawn');
    assert.ok(hist > 500, 'histogram drawn');
    assert.ok(timeline > 500, 'timeline drawn');
    assert.ok(Number(await page.textContent('#intent-count')) >= 10, 'intent count shown');
    assert.ok(((await page.textContent('#intents')) ?? '').match(/#\d+ (left|right) [01]\.\d\d/), 'intents listed with confidence');
    assert.match((await page.textContent('#health tbody')) ?? '', /Hz/, 'health rows');
    assert.equal(await page.$('#ctl-outputs-arm'), null, 'no arm control without a token');
    assert.equal(await page.$('#ctl-record-start'), null, 'no record control without a token');
    assert.match((await page.textContent('#role')) ?? '', /observer/);
    mkdirSync(join(ROOT, 'test-results'), { recursive: true });
    await page.screenshot({ path: join(ROOT, 'test-results', 'dashboard.png'), fullPage: true });

    const clinician = /clinician:(\S+)/.exec(rt.stdout())?.[1];
    assert.ok(clinician, 'the runtime printed a clinician token');
    const p2 = await ctx.newPage();
    p2.on('pageerror', (e) => errors.push(e.message));
    await p2.goto(`http://127.0.0.1:${rt.port}/#token=${clinician}`);
    await p2.waitForSelector('#ctl-outputs-arm', { timeout: 20000 });
    assert.ok(await p2.$('#ctl-record-start'), 'record control for a clinician');
    assert.match((await p2.textContent('#role')) ?? '', /clinician/);
    // A control from the page reaches the runtime: freeze adaptation, shown in the adaptation state.
    await p2.click('#ctl-adaptation-freeze');
    await p2.waitForFunction(() => /frozen/.test(document.getElementById('adaptation')?.textContent ?? ''), undefined, { timeout: 10000 });
    await p2.screenshot({ path: join(ROOT, 'test-results', 'dashboard-clinician.png'), fullPage: true });
    assert.deepEqual(errors, [], 'no page errors');
    assert.deepEqual(foreign, [], 'nothing fetched from elsewhere');
  } finally {
    await ctx.close();
    rmSync(profile, { recursive: true, force: true });
    await rt.stop();
  }
});
