/**
 * KilnError: every user mistake surfaces as one of these, with a stable `code` and a message
 * that names the thing (op, node, placeholder) and shows expected vs got.
 */
export type KilnErrorCode =
  | 'SHAPE_MISMATCH'
  | 'DTYPE_MISMATCH'
  | 'INVALID_ARGUMENT'
  | 'INVALID_ATTR'
  | 'UNKNOWN_OP'
  | 'PARSE_ERROR'
  | 'CORRUPT_MODEL'
  | 'UNSUPPORTED_VERSION'
  | 'MISSING_FEED'
  | 'UNKNOWN_TENSOR'
  | 'INVALID_FEED'
  | 'NOT_DIFFERENTIABLE'
  | 'NUMERIC_ERROR'
  | 'UNSUPPORTED'
  /** Memory (or another budget) ran out: the message says what was asked for, what is in use and what to do. */
  | 'RESOURCE_EXHAUSTED'
  | 'IO_ERROR'
  | 'INTERNAL';

export class KilnError extends Error {
  readonly code: KilnErrorCode;
  constructor(code: KilnErrorCode, message: string) {
    super(message);
    this.name = 'KilnError';
    this.code = code;
  }
}

/** Formats a shape as TensorFlow.js users read it: [?,28,28,1]. */
export function fmtShape(shape: readonly (number | null)[]): string {
  return `[${shape.map((d) => (d === null ? '?' : String(d))).join(',')}]`;
}
