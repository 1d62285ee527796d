/** Ops: losses family. */
export {};
