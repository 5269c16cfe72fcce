/** Stream discovery: one-shot resolves (off the event loop) and a continuous resolver. */
import koffi from 'koffi';
import { describe, type StreamDescription } from './info.ts';
import { liblsl } from './liblsl.ts';

const MAX_RESULTS = 256;

/** A query: a property match, an XPath 1.0 predicate, or everything on the network. */
export type StreamQuery =
  | { prop: 'name' | 'type' | 'source_id' | 'uid' | 'hostname' | 'channel_format' | 'session_id'; value: string }
  | { pred: string }
  | { all: true };

function pointersIn(buf: Uint8Array, n: number): unknown[] {
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) out.push(koffi.decode(buf, i * 8, 'void *'));
  return out;
}

function collect(buf: Uint8Array, n: number): StreamDescription[] {
  const L = liblsl();
  const infos = pointersIn(buf, n);
  const out = infos.map((p) => describe(p));
  for (const p of infos) L.lsl_destroy_streaminfo(p);
  // liblsl may answer the same stream twice (several interfaces): keep one per uid.
  const seen = new Set<string>();
  return out.filter((d) => (seen.has(d.uid) ? false : (seen.add(d.uid), true)));
}

/**
 * Resolve streams matching `query`. The blocking liblsl call runs on koffi's worker
 * pool, never on the event loop. Resolves with whatever was found after `timeout`
 * seconds (or as soon as `minimum` streams are found, for prop/pred queries).
 */
export function resolveStreams(query: StreamQuery, opts: { timeout?: number; minimum?: number } = {}): Promise<StreamDescription[]> {
  const L = liblsl();
  const timeout = opts.timeout ?? 1.0;
  const minimum = opts.minimum ?? 1;
  const buf = new Uint8Array(MAX_RESULTS * 8);
  return new Promise((resolve, reject) => {
    const done = (err: unknown, n: number) => {
      if (err) return reject(err);
      if (n < 0) return reject(new Error(`liblsl resolve failed with code ${n}`));
      try {
        resolve(collect(buf, n));
      } catch (e) {
        reject(e);
      }
    };
    if ('all' in query) L.lsl_resolve_all.async(buf, MAX_RESULTS, timeout, done);
    else if ('prop' in query) L.lsl_resolve_byprop.async(buf, MAX_RESULTS, query.prop, query.value, minimum, timeout, done);
    else L.lsl_resolve_bypred.async(buf, MAX_RESULTS, query.pred, minimum, timeout, done);
  });
}

/** Keeps an up-to-date list of matching streams in the background (liblsl's continuous resolver). */
export class ContinuousResolver {
  private handle: unknown;

  /** @param pred XPath predicate, or undefined for all streams. @param forgetAfter seconds before a silent stream is dropped. */
  constructor(pred?: string, forgetAfter = 5.0) {
    const L = liblsl();
    this.handle = pred ? L.lsl_create_continuous_resolver_bypred(pred, forgetAfter) : L.lsl_create_continuous_resolver(forgetAfter);
    if (!this.handle) throw new Error(`could not create a continuous resolver for ${pred ?? 'all streams'}`);
  }

  /** The streams currently visible (non-blocking). */
  results(): StreamDescription[] {
    if (!this.handle) throw new Error('continuous resolver is closed');
    const buf = new Uint8Array(MAX_RESULTS * 8);
    const n = liblsl().lsl_resolver_results(this.handle, buf, MAX_RESULTS) as number;
    if (n < 0) throw new Error(`liblsl resolver_results failed with code ${n}`);
    return collect(buf, n);
  }

  close(): void {
    if (this.handle) liblsl().lsl_destroy_continuous_resolver(this.handle);
    this.handle = undefined;
  }
}

/** Build a predicate that matches every given property (values are quoted safely). */
export function predicate(props: Record<string, string | number>): string {
  return Object.entries(props)
    .map(([k, v]) => (typeof v === 'number' ? `${k}=${v}` : `${k}='${String(v).replace(/'/g, '')}'`))
    .join(' and ');
}
