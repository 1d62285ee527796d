/** Ops: conv family. */
export {};
