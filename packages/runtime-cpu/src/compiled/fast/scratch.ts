/**
 * Reusable float64 and int32 scratch buffers for the fast kernels (row maxima, window sums,
 * gradient accumulators, argmax indices), so a kernel allocates nothing on the hot path.
 * Kernels run one at a time, and each kernel asks for distinct slots when it needs more than
 * one buffer of a type at once.
 */

/** A getter of per-slot buffers made by `make`, grown (to at least 64 elements) on demand. */
function slotted<T extends { length: number }>(make: (n: number) => T): (slot: number, n: number) => T {
  const slots: T[] = [];
  return (slot, n) => {
    let s = slots[slot];
    if (!s || s.length < n) {
      s = make(Math.max(n, 64));
      slots[slot] = s;
    }
    return s;
  };
}

/** A Float64Array of at least `n` elements for slot `slot`; its contents are unspecified. */
export const scratch64: (slot: number, n: number) => Float64Array = slotted((n) => new Float64Array(n));

/** An Int32Array of at least `n` elements for slot `slot`; its contents are unspecified. */
export const scratchI32: (slot: number, n: number) => Int32Array = slotted((n) => new Int32Array(n));
