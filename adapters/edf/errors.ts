/**
 * Error raised for EDF / EDF+ / BDF input that cannot be read: wrong format,
 * a corrupt header field, or a file cut short. It always names the file and
 * the byte offset where the problem was found.
 */
export class EdfFormatError extends Error {
  readonly file: string;
  readonly offset: number;

  constructor(file: string, offset: number, detail: string) {
    super(`${file}: byte offset ${offset}: ${detail}`);
    this.name = 'EdfFormatError';
    this.file = file;
    this.offset = offset;
  }
}
