/** The error parseGraph throws for text it cannot read: a KilnError that also carries the position. */
import { KilnError, type KilnErrorCode } from '../errors.js';

export class TextIrError extends KilnError {
  /** 1-based line and column of the offending token (column 0 when only the line is known). */
  readonly line: number;
  readonly column: number;
  constructor(code: KilnErrorCode, message: string, line: number, column = 0) {
    super(code, column > 0 ? `line ${line}, column ${column}: ${message}` : `line ${line}: ${message}`);
    this.line = line;
    this.column = column;
  }
}
