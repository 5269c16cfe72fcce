/** XDF (Extensible Data Format) reading and writing. */
export { readXdf, readXdfChunks, BOUNDARY_UUID, TAG, FORMAT_BYTES } from './reader.ts';
export type { XdfFile, XdfStream, XdfChunk, XdfData, XdfNumericData, XdfReadOptions, XdfChunkOptions } from './reader.ts';
export { XdfWriter } from './writer.ts';
export type { XdfWriterOptions, XdfStreamSpec, XdfWriterStats } from './writer.ts';
export { XdfFormatError } from './errors.ts';
export { parseXml, parseStreamInfo, parseStreamFooter, buildStreamInfoXml, escapeXml, CHANNEL_FORMATS } from './xml.ts';
export type { XmlElement, XdfStreamInfo, XdfChannel, XdfChannelFormat, XdfFooter, StreamInfoFields } from './xml.ts';
export { robustLineFit, clockSegments, applyClockSync, dejitter, effectiveSrate } from './sync.ts';
export type { ClockSegment, ClockSyncOptions, DejitterOptions, LineFit } from './sync.ts';
