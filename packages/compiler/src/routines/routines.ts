/**
 * The routines: ops that a program may still hold as kernels of kind 'op' after routine
 * decomposition (decompose/), because they are not (or not always) a reduction, a contraction
 * or an elementwise map over views. A backend implements each whole; the reference kernel of
 * the same name in @kiln/runtime-cpu (reference/kernels/) is each one's reference
 * implementation and the oracle its implementations are tested against. A Device declares the
 * routines it implements (Device.routines); compiling a program that needs one it lacks fails
 * at compile time (check-routines.ts).
 *
 * Every other op lowers to the elementwise, reduce, contraction or view kinds. The list is
 * closed: the registry table test fails when a program holds an op kernel not listed here.
 * Decomposition runs only when fusing: an unfused program keeps one kernel per graph node
 * (what checkNumerics reports), so there the decomposed ops are routines too ('unfused').
 */
export type RoutineCategory = 'convolution' | 'pooling' | 'gather-scatter' | 'random' | 'state' | 'integer' | 'movement' | 'long-scan' | 'unfused';

export interface RoutineInfo {
  readonly category: RoutineCategory;
  /** When the op is a routine (always, or the cases its decomposition declines). */
  readonly when: string;
}

const always = (category: RoutineCategory, why: string): RoutineInfo => ({ category, when: `always: ${why}` });

export const ROUTINES: Readonly<Record<string, RoutineInfo>> = {
  conv2d: always('convolution', 'a windowed contraction (im2col + GEMM or direct)'),
  conv2dTranspose: always('convolution', 'a windowed contraction'),
  conv2dBackpropInput: always('convolution', 'a windowed contraction'),
  conv2dBackpropFilter: always('convolution', 'a windowed contraction'),
  depthwiseConv2d: always('convolution', 'a windowed per-channel contraction'),
  depthwiseConv2dBackpropInput: always('convolution', 'a windowed per-channel contraction'),
  depthwiseConv2dBackpropFilter: always('convolution', 'a windowed per-channel contraction'),
  maxPool: {
    category: 'pooling',
    when: 'a device that has it (faster); else overlapping, strided-apart, dilated or padded windows (non-overlapping windows that tile H and W are a max reduction); and unfused programs',
  },
  avgPool: {
    category: 'pooling',
    when: 'a device that has it (faster); else overlapping, strided-apart, dilated or padded windows (non-overlapping windows that tile H and W are a mean reduction); and unfused programs',
  },
  maxPoolGrad: always('pooling', 'scatters each gradient to the first maximum of its window'),
  maxPoolGradGrad: always('pooling', 'gathers through the first maximum of each window'),
  avgPoolGrad: always('pooling', 'scatters each gradient over its window'),
  gather: always('gather-scatter', 'data-dependent indices'),
  unsortedSegmentSum: always('gather-scatter', 'a data-dependent scatter-add'),
  dropout: always('random', 'draws from the per-node random stream'),
  randomNormal: always('random', 'draws from the per-node random stream'),
  randomUniform: always('random', 'draws from the per-node random stream'),
  truncatedNormal: always('random', 'draws from the per-node random stream (redrawn outside two standard deviations)'),
  multinomial: always('random', 'samples categories from the per-node random stream'),
  assign: { category: 'state', when: 'unfused programs, or a variable assigned more than once (else an in-place elementwise update)' },
  assignAdd: { category: 'state', when: 'unfused programs, or a variable assigned more than once' },
  assignSub: { category: 'state', when: 'unfused programs, or a variable assigned more than once' },
  matMul: { category: 'integer', when: 'int32 operands (float32 rank 2 is a contraction, float32 batched a sum reduction); and unfused programs' },
  sum: { category: 'integer', when: 'int32 input (float32 reductions are the reduce kind)' },
  mean: { category: 'integer', when: 'int32 input' },
  max: { category: 'integer', when: 'int32 input' },
  min: { category: 'integer', when: 'int32 input' },
  prod: { category: 'integer', when: 'int32 input' },
  argMax: { category: 'integer', when: 'int32 input (float32 is two reductions); and unfused programs' },
  argMin: { category: 'integer', when: 'int32 input (float32 is two reductions); and unfused programs' },
  cumsum: { category: 'long-scan', when: 'int32 input, or an axis longer than 1024 (else a masked sum reduction); and unfused programs' },
  transpose: { category: 'movement', when: 'not read in place by elementwise consumers (fetched, unfused, or feeding a reduction or contraction)' },
  slice: { category: 'movement', when: 'not read in place by elementwise consumers' },
  pad: { category: 'movement', when: 'not read in place by elementwise consumers' },
  concat: { category: 'movement', when: 'not read in place by elementwise consumers' },
  softmax: { category: 'unfused', when: 'unfused programs only (fused: max and sum reductions and an elementwise map)' },
  logSoftmax: { category: 'unfused', when: 'unfused programs only (fused: max and sum reductions and an elementwise map)' },
  layerNorm: { category: 'unfused', when: 'unfused programs only (fused: two mean reductions and an elementwise map)' },
  batchNorm: { category: 'unfused', when: 'unfused programs only (fused: elementwise)' },
  tile: { category: 'unfused', when: 'unfused programs only (fused: an elementwise broadcast between views)' },
  oneHot: { category: 'unfused', when: 'unfused programs only (fused: elementwise)' },
  split: always('movement', 'several outputs (each a slice view; pending index expressions)'),
  stack: always('movement', 'an index map over several inputs (pending index expressions)'),
};

/** The names of all routines. */
export const ROUTINE_NAMES: readonly string[] = Object.keys(ROUTINES);
