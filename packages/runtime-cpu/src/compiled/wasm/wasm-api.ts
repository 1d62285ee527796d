/**
 * The slice of the WebAssembly JS API the engine uses, typed locally: this project's TypeScript
 * libs (ES2022 + @types/node 20) declare no `WebAssembly` namespace.
 */

/** A shared WebAssembly.Memory (its buffer is a SharedArrayBuffer that never detaches). */
export interface WasmMemory {
  readonly buffer: SharedArrayBuffer;
  /** Grows by `deltaPages` 64 KiB pages; returns the old size in pages; throws past the maximum. */
  grow(deltaPages: number): number;
}

/** A compiled WebAssembly.Module (opaque; structured-clonable to worker threads). */
export interface WasmModule {
  readonly __brand?: 'WebAssembly.Module';
}

interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => { readonly exports: Record<string, unknown> };
  Memory: new (desc: { initial: number; maximum: number; shared: true }) => WasmMemory;
}

/** globalThis.WebAssembly under the local typing. */
export const wasm: WasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
