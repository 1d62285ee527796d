/** Test helpers for asserting on KilnErrors. */
import { KilnError } from '@kiln/graph';

/** `CODE: message` of the KilnError `f` throws, or 'no error'; any other exception propagates. */
export function kilnErrorText(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof KilnError) return `${e.code}: ${e.message}`;
    throw e;
  }
  return 'no error';
}

/** The KilnError `f` throws; fails when it throws nothing or something else. */
export function kilnErrorOf(f: () => unknown): KilnError {
  try {
    f();
  } catch (e) {
    if (e instanceof KilnError) return e;
    throw new Error(`expected a KilnError, got ${String(e)}`);
  }
  throw new Error('expected a KilnError, got none');
}
