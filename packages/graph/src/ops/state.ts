/** Ops: state family. */
export {};
