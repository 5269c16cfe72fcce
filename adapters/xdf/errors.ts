/**
 * Error raised for XDF input that cannot be read: not XDF, a corrupt chunk, or
 * (in strict mode) a file cut short. Names the file and the byte offset.
 */
export class XdfFormatError extends Error {
  readonly file: string;
  readonly offset: number;

  constructor(file: string, offset: number, detail: string) {
    super(`${file}: byte offset ${offset}: ${detail}`);
    this.name = 'XdfFormatError';
    this.file = file;
    this.offset = offset;
  }
}
