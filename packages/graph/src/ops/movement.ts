/** Ops: movement family. */
export {};
