/** Ops: compare family. */
export {};
