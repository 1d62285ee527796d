/** Ops: linalg family. */
export {};
