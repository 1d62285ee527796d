/** Ops: normalization family. */
export {};
