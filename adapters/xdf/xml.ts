/**
 * A small XML parser for LSL stream info / XDF header and footer documents,
 * plus the helpers that turn those documents into typed objects. No
 * dependencies: elements, attributes, text, CDATA, comments, processing
 * instructions and the five predefined + numeric character entities.
 * It is not a validating parser; DOCTYPE declarations are skipped.
 */

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** Concatenated character data directly inside this element (entities decoded, not trimmed). */
  text: string;
}

export class XmlError extends Error {
  constructor(
    readonly position: number,
    detail: string,
  ) {
    super(`XML error at character ${position}: ${detail}`);
    this.name = 'XmlError';
  }
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeEntities(s: string, at: number): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|[a-zA-Z]+);/g, (m, body: string) => {
    if (body[0] === '#') {
      const cp = body[1] === 'x' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      if (!Number.isFinite(cp) || cp > 0x10ffff) throw new XmlError(at, `bad character reference ${m}`);
      return String.fromCodePoint(cp);
    }
    const v = ENTITIES[body];
    if (v === undefined) throw new XmlError(at, `unknown entity ${m}`);
    return v;
  });
}

const NAME = /[A-Za-z_:][-A-Za-z0-9_:.]*/y;
const SPACE = /\s*/y;

/** Parse a document and return its root element. */
export function parseXml(src: string): XmlElement {
  let i = 0;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;

  const skipSpace = (): void => {
    SPACE.lastIndex = i;
    SPACE.exec(src);
    i = SPACE.lastIndex;
  };
  const readName = (): string => {
    NAME.lastIndex = i;
    const m = NAME.exec(src);
    if (!m) throw new XmlError(i, 'expected a name');
    i = NAME.lastIndex;
    return m[0];
  };

  while (i < src.length) {
    const lt = src.indexOf('<', i);
    const textEnd = lt < 0 ? src.length : lt;
    if (textEnd > i) {
      const raw = src.slice(i, textEnd);
      if (stack.length > 0) stack[stack.length - 1]!.text += decodeEntities(raw, i);
      else if (raw.trim() !== '') throw new XmlError(i, 'text outside the root element');
      i = textEnd;
      continue;
    }
    // At '<'
    if (src.startsWith('<?', i)) {
      const e = src.indexOf('?>', i + 2);
      if (e < 0) throw new XmlError(i, 'unterminated processing instruction');
      i = e + 2;
    } else if (src.startsWith('<!--', i)) {
      const e = src.indexOf('-->', i + 4);
      if (e < 0) throw new XmlError(i, 'unterminated comment');
      i = e + 3;
    } else if (src.startsWith('<![CDATA[', i)) {
      const e = src.indexOf(']]>', i + 9);
      if (e < 0) throw new XmlError(i, 'unterminated CDATA section');
      if (stack.length === 0) throw new XmlError(i, 'CDATA outside the root element');
      stack[stack.length - 1]!.text += src.slice(i + 9, e);
      i = e + 3;
    } else if (src.startsWith('<!', i)) {
      // DOCTYPE (no internal subset support beyond bracket skipping)
      let depth = 0;
      let j = i + 2;
      for (; j < src.length; j++) {
        if (src[j] === '[') depth++;
        else if (src[j] === ']') depth--;
        else if (src[j] === '>' && depth <= 0) break;
      }
      if (j >= src.length) throw new XmlError(i, 'unterminated declaration');
      i = j + 1;
    } else if (src[i + 1] === '/') {
      const at = i;
      i += 2;
      const name = readName();
      skipSpace();
      if (src[i] !== '>') throw new XmlError(i, `expected '>' to close </${name}`);
      i++;
      const open = stack.pop();
      if (!open || open.name !== name) {
        throw new XmlError(at, `closing tag </${name}> does not match <${open?.name ?? '(none)'}>`);
      }
    } else {
      const at = i;
      i++;
      const el: XmlElement = { name: readName(), attrs: {}, children: [], text: '' };
      for (;;) {
        skipSpace();
        if (src.startsWith('/>', i)) {
          i += 2;
          attach(el, at, true);
          break;
        }
        if (src[i] === '>') {
          i++;
          attach(el, at, false);
          break;
        }
        if (i >= src.length) throw new XmlError(at, `unterminated start tag <${el.name}`);
        const an = readName();
        skipSpace();
        if (src[i] !== '=') throw new XmlError(i, `expected '=' after attribute ${an}`);
        i++;
        skipSpace();
        const q = src[i];
        if (q !== '"' && q !== "'") throw new XmlError(i, `attribute ${an} value must be quoted`);
        const e = src.indexOf(q, i + 1);
        if (e < 0) throw new XmlError(i, `unterminated attribute ${an}`);
        el.attrs[an] = decodeEntities(src.slice(i + 1, e), i);
        i = e + 1;
      }
    }
  }
  if (stack.length > 0) throw new XmlError(src.length, `unclosed element <${stack[stack.length - 1]!.name}>`);
  if (!root) throw new XmlError(0, 'no root element');
  return root;

  function attach(el: XmlElement, at: number, selfClosing: boolean): void {
    if (stack.length > 0) stack[stack.length - 1]!.children.push(el);
    else if (root) throw new XmlError(at, 'more than one root element');
    else root = el;
    if (!selfClosing) stack.push(el);
  }
}

/** First child element with this name. */
export function child(el: XmlElement | undefined, name: string): XmlElement | undefined {
  return el?.children.find((c) => c.name === name);
}

/** Trimmed text of the first child with this name ('' when absent). */
export function childText(el: XmlElement | undefined, name: string): string {
  return child(el, name)?.text.trim() ?? '';
}

/** Escape text for element content or attribute values. */
export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

export type XdfChannelFormat = 'float32' | 'double64' | 'int8' | 'int16' | 'int32' | 'int64' | 'string';

export const CHANNEL_FORMATS: readonly XdfChannelFormat[] = ['float32', 'double64', 'int8', 'int16', 'int32', 'int64', 'string'];

export interface XdfChannel {
  label: string;
  type?: string;
  unit?: string;
  /** desc/channels/channel/location X, Y, Z when present. */
  location?: [number, number, number];
}

/** The fields of an LSL stream info document that the runtime uses. */
export interface XdfStreamInfo {
  name: string;
  type: string;
  channel_count: number;
  nominal_srate: number;
  channel_format: XdfChannelFormat;
  source_id: string;
  created_at?: number;
  uid?: string;
  hostname?: string;
  /** desc/channels/channel entries (empty when the header has none). */
  channels: XdfChannel[];
  /** The parsed <desc> element, for anything else a device puts there. */
  desc?: XmlElement;
}

/** Extract the stream info from a StreamHeader XML document. Throws XmlError / Error on malformed info. */
export function parseStreamInfo(xml: string): XdfStreamInfo {
  const root = parseXml(xml);
  if (root.name !== 'info') throw new Error(`stream header root element is <${root.name}>, expected <info>`);
  const fmt = childText(root, 'channel_format') as XdfChannelFormat;
  if (!CHANNEL_FORMATS.includes(fmt)) throw new Error(`unknown channel_format ${JSON.stringify(fmt)}`);
  const cc = Number(childText(root, 'channel_count'));
  if (!Number.isInteger(cc) || cc < 0) throw new Error(`bad channel_count ${JSON.stringify(childText(root, 'channel_count'))}`);
  const srateText = childText(root, 'nominal_srate');
  const srate = srateText === '' ? 0 : Number(srateText);
  if (!Number.isFinite(srate) || srate < 0) throw new Error(`bad nominal_srate ${JSON.stringify(srateText)}`);
  const desc = child(root, 'desc');
  const channels: XdfChannel[] = [];
  for (const ch of child(desc, 'channels')?.children ?? []) {
    if (ch.name !== 'channel') continue;
    const c: XdfChannel = { label: childText(ch, 'label') };
    const type = childText(ch, 'type');
    const unit = childText(ch, 'unit');
    if (type) c.type = type;
    if (unit) c.unit = unit;
    const loc = child(ch, 'location');
    if (loc) {
      const xyz = ['X', 'Y', 'Z'].map((k) => Number(childText(loc, k)));
      if (xyz.every((v) => Number.isFinite(v)) && ['X', 'Y', 'Z'].every((k) => childText(loc, k) !== '')) {
        c.location = xyz as [number, number, number];
      }
    }
    channels.push(c);
  }
  const info: XdfStreamInfo = {
    name: childText(root, 'name'),
    type: childText(root, 'type'),
    channel_count: cc,
    nominal_srate: srate,
    channel_format: fmt,
    source_id: childText(root, 'source_id'),
    channels,
  };
  const created = childText(root, 'created_at');
  if (created !== '') info.created_at = Number(created);
  const uid = childText(root, 'uid');
  if (uid) info.uid = uid;
  const host = childText(root, 'hostname');
  if (host) info.hostname = host;
  if (desc) info.desc = desc;
  return info;
}

export interface XdfFooter {
  first_timestamp?: number;
  last_timestamp?: number;
  sample_count?: number;
  clock_offsets: { time: number; value: number }[];
  /** Other simple child elements (e.g. <writer>). */
  extra: Record<string, string>;
}

/** Extract the fields of a StreamFooter XML document. */
export function parseStreamFooter(xml: string): XdfFooter {
  const root = parseXml(xml);
  const f: XdfFooter = { clock_offsets: [], extra: {} };
  for (const c of root.children) {
    const t = c.text.trim();
    if (c.name === 'first_timestamp') f.first_timestamp = Number(t);
    else if (c.name === 'last_timestamp') f.last_timestamp = Number(t);
    else if (c.name === 'sample_count') f.sample_count = Number(t);
    else if (c.name === 'clock_offsets') {
      for (const o of c.children) {
        if (o.name === 'offset') f.clock_offsets.push({ time: Number(childText(o, 'time')), value: Number(childText(o, 'value')) });
      }
    } else if (c.children.length === 0) f.extra[c.name] = t;
  }
  return f;
}

/** The fields an LSL stream info XML document is built from. */
export interface StreamInfoFields {
  name: string;
  type?: string;
  channel_count: number;
  nominal_srate: number;
  channel_format: XdfChannelFormat;
  source_id?: string;
  created_at?: number;
  uid?: string;
  hostname?: string;
  channels?: XdfChannel[];
}

/** Build an LSL stream info XML document from its fields. */
export function buildStreamInfoXml(info: StreamInfoFields): string {
  const e = escapeXml;
  let x = '<?xml version="1.0"?>\n<info>\n';
  x += `\t<name>${e(info.name)}</name>\n`;
  x += `\t<type>${e(info.type ?? '')}</type>\n`;
  x += `\t<channel_count>${info.channel_count}</channel_count>\n`;
  x += `\t<nominal_srate>${numText(info.nominal_srate)}</nominal_srate>\n`;
  x += `\t<channel_format>${info.channel_format}</channel_format>\n`;
  x += `\t<source_id>${e(info.source_id ?? '')}</source_id>\n`;
  x += `\t<version>1.1</version>\n`;
  if (info.created_at !== undefined) x += `\t<created_at>${numText(info.created_at)}</created_at>\n`;
  if (info.uid) x += `\t<uid>${e(info.uid)}</uid>\n`;
  if (info.hostname) x += `\t<hostname>${e(info.hostname)}</hostname>\n`;
  if (info.channels && info.channels.length > 0) {
    x += '\t<desc>\n\t\t<channels>\n';
    for (const c of info.channels) {
      x += `\t\t\t<channel>\n\t\t\t\t<label>${e(c.label)}</label>\n`;
      if (c.type) x += `\t\t\t\t<type>${e(c.type)}</type>\n`;
      if (c.unit) x += `\t\t\t\t<unit>${e(c.unit)}</unit>\n`;
      if (c.location) {
        const [X, Y, Z] = c.location;
        x += `\t\t\t\t<location>\n\t\t\t\t\t<X>${numText(X)}</X>\n\t\t\t\t\t<Y>${numText(Y)}</Y>\n\t\t\t\t\t<Z>${numText(Z)}</Z>\n\t\t\t\t</location>\n`;
      }
      x += '\t\t\t</channel>\n';
    }
    x += '\t\t</channels>\n\t</desc>\n';
  } else {
    x += '\t<desc />\n';
  }
  x += '</info>\n';
  return x;
}

/** Shortest text that reads back as exactly the same double. */
export function numText(v: number): string {
  return Number.isFinite(v) ? String(v) : '0';
}
