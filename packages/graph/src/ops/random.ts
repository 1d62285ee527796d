/** Ops: random family. */
export {};
