/**
 * Who may connect. Browsers send an `Origin` header with every WebSocket upgrade;
 * other programs usually do not. A page from a foreign site must never reach the
 * runtime (it could send messages that change state), so an Origin is accepted
 * only when it names this machine (loopback, one of its own addresses when the
 * server listens on them, its host name) or an origin the operator allowed.
 * The `Host` header is not trusted for this: under DNS rebinding a foreign page
 * sends a Host that matches its own Origin.
 */
import { hostname, networkInterfaces } from 'node:os';

/** True for 127.0.0.0/8, ::1, localhost (and *.localhost). */
export function isLoopbackHost(h: string): boolean {
  const host = h.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host) || host === '::ffff:127.0.0.1';
}

/** Host names and addresses a page of this runtime can be served from, given the bind address. */
export function ownHosts(bindHost: string): Set<string> {
  const hosts = new Set<string>(['localhost', '127.0.0.1', '::1']);
  if (isLoopbackHost(bindHost)) return hosts;
  hosts.add(hostname().toLowerCase());
  const any = bindHost === '0.0.0.0' || bindHost === '::' || bindHost === '';
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (any || a.address === bindHost) hosts.add(a.address.toLowerCase());
  }
  if (!any) hosts.add(bindHost.toLowerCase());
  return hosts;
}

/**
 * Whether a connection with this Origin header may be accepted. No Origin: a
 * non-browser client, accepted. `allowed` holds extra origins (`https://app.example`,
 * scheme + host + port as browsers send them) or `*` for any.
 */
export function originAllowed(origin: string | undefined, own: Set<string>, allowed: readonly string[] = []): boolean {
  if (origin === undefined || origin === '') return true;
  if (allowed.includes('*') || allowed.includes(origin)) return true;
  let u: URL;
  try {
    u = new URL(origin);
  } catch {
    return false; // includes the literal "null" origin of sandboxed frames and file: pages
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return false;
  const host = u.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return isLoopbackHost(host) || own.has(host);
}
