/** EDF / EDF+ / BDF reading and EDF+ writing. */
export { readEdf, readEdfHeader, parseEdf, signalTimes, sampleTime } from './reader.ts';
export type {
  EdfFormat,
  EdfHeader,
  EdfSignalHeader,
  EdfSignal,
  EdfAnnotation,
  EdfTriggerEvent,
  EdfRecording,
  EdfReadOptions,
} from './reader.ts';
export { EdfFormatError } from './errors.ts';
export { writeEdf, encodeEdf, fit8 } from './writer.ts';
export type { EdfWriteOptions, EdfWriteSignal } from './writer.ts';
