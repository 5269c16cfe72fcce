/**
 * The dashboard at `/` on the runtime's port: the page, its script (app.ts and
 * the client, bundled once with esbuild on first request) and uPlot's stylesheet,
 * all from the installed package; nothing is fetched from the network.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HttpRoute } from '../ws/server.ts';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

/** Browser bundle of the dashboard script (cached per process). */
let bundle: Promise<string> | undefined;
export function dashboardScript(): Promise<string> {
  bundle ??= (async () => {
    const esbuild = await import('esbuild');
    const r = await esbuild.build({
      entryPoints: [join(here, 'app.ts')], bundle: true, format: 'esm', platform: 'browser', target: 'es2022',
      write: false, minify: true, legalComments: 'none', logLevel: 'silent',
      // The client loads `ws` only in Node, where there is no global WebSocket.
      external: ['ws'],
    });
    return r.outputFiles[0]!.text;
  })();
  bundle.catch(() => (bundle = undefined));
  return bundle;
}

const CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self' ws: wss:; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** The HTTP route serving the dashboard. */
export function dashboardRoute(): HttpRoute {
  const html = readFileSync(join(here, 'index.html'));
  const css = readFileSync(join(dirname(require.resolve('uplot')), 'uPlot.min.css'));
  return async (_req, res, url) => {
    if (url.pathname === '/' || url.pathname === '/index.html') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': CSP, 'Referrer-Policy': 'no-referrer' }).end(html);
      return true;
    }
    if (url.pathname === '/dashboard/app.js') {
      res.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8' }).end(await dashboardScript());
      return true;
    }
    if (url.pathname === '/dashboard/uPlot.min.css') {
      res.writeHead(200, { 'Content-Type': 'text/css; charset=utf-8' }).end(css);
      return true;
    }
    return false;
  };
}
