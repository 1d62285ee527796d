/** Ops: reduce family. */
export {};
