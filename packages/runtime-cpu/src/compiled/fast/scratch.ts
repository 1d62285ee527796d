/**
 * Reusable float64 scratch buffers for the fast kernels (row maxima, window sums, gradient
 * accumulators), so a kernel allocates nothing on the hot path. Kernels run one at a time,
 * and each kernel asks for distinct slots when it needs more than one buffer at once.
 */
const slots: Float64Array[] = [];

/** A Float64Array of at least `n` elements for slot `slot`; its contents are unspecified. */
export function scratch64(slot: number, n: number): Float64Array {
  let s = slots[slot];
  if (!s || s.length < n) {
    s = new Float64Array(Math.max(n, 64));
    slots[slot] = s;
  }
  return s;
}

const intSlots: Int32Array[] = [];

/** An Int32Array of at least `n` elements for slot `slot`; its contents are unspecified. */
export function scratchI32(slot: number, n: number): Int32Array {
  let s = intSlots[slot];
  if (!s || s.length < n) {
    s = new Int32Array(Math.max(n, 64));
    intSlots[slot] = s;
  }
  return s;
}
