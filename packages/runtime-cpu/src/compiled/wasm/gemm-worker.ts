/**
 * The GEMM worker threads: the control block they share with the engine and their inline
 * source (started with `eval: true`, so no separate file has to resolve under tsx, Jest or
 * plain node). A dispatch writes one job (the kernel arguments, a chunk count and step) into
 * the control block, sets PENDING, bumps GEN and notifies. The caller and the workers then
 * claim chunks (column or row ranges) from the NEXT counter until none are left, so a worker
 * that wakes late (or not at all on a busy machine) just claims fewer; each finished chunk
 * counts in DONE, and the caller returns once DONE reaches CHUNKS. A worker checks out of a
 * generation by decrementing PENDING; the caller waits for PENDING = 0 only before it writes
 * the next job, so a straggler never delays the product it had no part in. No postMessage.
 * A row job (KIND 1) runs instead one of ROW_EXPORTS as fn(row0, rows, ...ARGS) per chunk of
 * rows [0, ROWS) (the kernel's direct conv and pooling loops, which write disjoint rows).
 */

/** Int32 indices in the control block at byte 0 of the engine's memory. */
export const CTL = {
  GEN: 0, // dispatch generation, bumped once per multi-threaded call
  PENDING: 1, // workers that have not finished the current generation
  ERROR: 2, // set by a worker whose kernel call threw
  QUIT: 3, // set by dispose()
  NEXT: 4, // next unclaimed chunk
  CHUNKS: 5, // chunks in this job
  STEP: 6, // columns (byN) or rows per chunk
  BY_N: 7, // 1: chunks are column ranges, 0: row ranges
  SCRATCH: 8, // byte offset of thread 0's packing scratch
  SCRATCH_BYTES: 9, // bytes of scratch per thread
  DONE: 10, // finished chunks
  KIND: 11, // 0: a GEMM job, 1: a row job
  FN: 12, // row job: index into ROW_EXPORTS
  ROWS: 13, // row job: total rows
  NARGS: 14, // row job: arguments after (row0, rows)
  ARGS: 16, // the kernel's 16 arguments for the whole product (scratch slot unused), or a row job's NARGS
} as const;

/** Kernel exports a row job can run: each is fn(row0, rows, ...args) and writes only its rows' outputs. */
export const ROW_EXPORTS = ['directConv', 'pool2d'] as const;
export type RowExport = (typeof ROW_EXPORTS)[number];

/** Most threads an engine runs. */
export const MAX_THREADS = 16;

/** Bytes reserved for the control block (the engine's scratch starts after it). */
export const CTL_BYTES = 256;

/** Most arguments a row job passes after (row0, rows). */
export const MAX_ROW_ARGS = CTL_BYTES / 4 - CTL.ARGS;

/** Busy-wait iterations (tens of microseconds) before sleeping in Atomics.wait. */
export const SPIN_ITERATIONS = 20000;

/**
 * Claims and runs chunks of the current job until none are left; one source for the workers
 * and (through claimChunks below) the calling thread.
 */
const CLAIM_SOURCE = `
function claimChunks(ctl, gemm, scratch, rowFns) {
  const chunks = ctl[${CTL.CHUNKS}], step = ctl[${CTL.STEP}], byN = ctl[${CTL.BY_N}] !== 0;
  const rowJob = ctl[${CTL.KIND}] === 1;
  for (let i = Atomics.add(ctl, ${CTL.NEXT}, 1); i < chunks; i = Atomics.add(ctl, ${CTL.NEXT}, 1)) {
    try {
      if (rowJob) runRows(ctl, rowFns, i * step, step);
      else run(ctl, gemm, scratch, i * step, step, byN);
    } catch (e) {
      Atomics.store(ctl, ${CTL.ERROR}, 1);
    }
    if (Atomics.add(ctl, ${CTL.DONE}, 1) === chunks - 1) Atomics.notify(ctl, ${CTL.DONE});
  }
}
// Rows [lo, lo + step) of a row job.
function runRows(ctl, rowFns, lo, step) {
  const args = [lo, Math.min(step, ctl[${CTL.ROWS}] - lo)];
  for (let i = 0, n = ctl[${CTL.NARGS}]; i < n; i++) args.push(ctl[${CTL.ARGS} + i]);
  rowFns[ctl[${CTL.FN}]](...args);
}
// Columns [lo, lo + step) (byN) or rows [lo, lo + step) of the job's product.
function run(ctl, gemm, scratch, lo, step, byN) {
  const A = ${CTL.ARGS};
  const len = Math.min(step, ctl[A + (byN ? 1 : 0)] - lo);
  if (byN) {
    gemm(ctl[A], len, ctl[A + 2], ctl[A + 3], ctl[A + 4], ctl[A + 5], (ctl[A + 6] + lo * ctl[A + 8]) | 0,
      ctl[A + 7], ctl[A + 8], (ctl[A + 9] + lo * 4) | 0, ctl[A + 10], ctl[A + 11], scratch,
      ctl[A + 13], ctl[A + 14], ctl[A + 15]);
  } else {
    gemm(len, ctl[A + 1], ctl[A + 2], (ctl[A + 3] + lo * ctl[A + 4]) | 0, ctl[A + 4], ctl[A + 5], ctl[A + 6],
      ctl[A + 7], ctl[A + 8], (ctl[A + 9] + lo * ctl[A + 10]) | 0, ctl[A + 10], ctl[A + 11], scratch,
      ctl[A + 13], ctl[A + 14], ctl[A + 15]);
  }
}
`;

/** The chunk loop as a function of (ctl, gemm, scratch, rowFns), for the calling thread. */
export const claimChunks = new Function(`${CLAIM_SOURCE}\nreturn claimChunks;`)() as (
  ctl: Int32Array,
  gemm: (...args: number[]) => void,
  scratch: number,
  rowFns: readonly ((...args: number[]) => void)[],
) => void;

/** workerData: { module: WebAssembly.Module, memory: WebAssembly.Memory, index: number }. */
export const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const { module, memory, index } = workerData;
const kernel = new WebAssembly.Instance(module, { env: { memory } }).exports;
const gemm = kernel.gemm;
const rowFns = ${JSON.stringify(ROW_EXPORTS)}.map((name) => kernel[name]);
const ctl = new Int32Array(memory.buffer, 0, ${CTL_BYTES / 4});
${CLAIM_SOURCE}
let seen = Atomics.load(ctl, ${CTL.GEN});
parentPort.postMessage('ready');
for (;;) {
  for (let i = 0; i < ${SPIN_ITERATIONS} && Atomics.load(ctl, ${CTL.GEN}) === seen; i++);
  if (Atomics.load(ctl, ${CTL.GEN}) === seen) Atomics.wait(ctl, ${CTL.GEN}, seen);
  seen = Atomics.load(ctl, ${CTL.GEN});
  if (Atomics.load(ctl, ${CTL.QUIT}) !== 0) break;
  claimChunks(ctl, gemm, ctl[${CTL.SCRATCH}] + index * ctl[${CTL.SCRATCH_BYTES}], rowFns);
  if (Atomics.sub(ctl, ${CTL.PENDING}, 1) === 1) Atomics.notify(ctl, ${CTL.PENDING});
}
`;
