/** Ops: pool family. */
export {};
