/**
 * Channel metadata as LSL's desc/channels/channel convention writes it (label, type,
 * unit, location X/Y/Z, and our shaft/contact for SEEG). Shared by the live inlet
 * (liblsl's XML DOM) and replay (the XDF header's XML), so both read it the same way.
 */
import type { ChannelInfo } from '../types.ts';

/** One `<channel>` element: `text(name)` reads a child's text, `loc(axis)` the location's. */
export function channelFrom(index: number, text: (name: string) => string | undefined, loc?: (axis: 'X' | 'Y' | 'Z') => string | undefined): ChannelInfo {
  const c: ChannelInfo = { label: text('label') ?? `ch${index + 1}` };
  const type = text('type');
  const unit = text('unit');
  if (type) c.type = type;
  if (unit) c.unit = unit;
  if (loc) {
    const xyz = (['X', 'Y', 'Z'] as const).map((k) => Number(loc(k)));
    if (xyz.every(Number.isFinite)) c.pos = xyz as [number, number, number];
  }
  const shaft = text('shaft');
  const contact = text('contact');
  if (shaft) c.shaft = shaft;
  if (contact !== undefined && Number.isFinite(Number(contact))) c.contact = Number(contact);
  return c;
}

/** A description that does not match the channel count is ignored rather than trusted. */
export function checkedChannels(list: ChannelInfo[], count: number): ChannelInfo[] {
  return list.length === count ? list : Array.from({ length: count }, (_, i) => ({ label: `ch${i + 1}` }));
}
