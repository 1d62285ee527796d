/**
 * onnxruntime-node (native CPU, MLAS kernels) on models written as ONNX bytes by
 * ../onnx-writer.ts from the same weights. Inference only: onnxruntime-node has no training
 * here, so the training workloads report why they are missing. The thread count is explicit
 * (intraOpNumThreads), one Framework per count; its pool does not spin between runs (the
 * cells of all frameworks interleave in one process).
 */
import * as ort from 'onnxruntime-node';
import { type BenchData, CNN_BATCH, MATMUL_N, MLP_BATCH, hwioToOihw, nhwcRowsToNchw } from '../data.js';
import type { Case, Framework, WorkloadId } from '../framework.js';
import { type OnnxModel, type OnnxNode, encodeOnnxModel } from '../onnx-writer.js';

function mlpModel(d: BenchData): OnnxModel {
  const nodes: OnnxNode[] = [];
  let h = 'x';
  for (let l = 0; l < 3; l++) {
    nodes.push({ op: 'MatMul', inputs: [h, `w${l}`], outputs: [`mm${l}`] });
    const out = l < 2 ? `z${l}` : 'logits';
    nodes.push({ op: 'Add', inputs: [`mm${l}`, `b${l}`], outputs: [out] });
    if (l < 2) nodes.push({ op: 'Relu', inputs: [out], outputs: [(h = `h${l}`)] });
  }
  return {
    inputs: [{ name: 'x', shape: [MLP_BATCH, 784] }],
    outputs: [{ name: 'logits', shape: [MLP_BATCH, 10] }],
    initializers: d.mlp.params,
    nodes,
  };
}

function cnnModel(d: BenchData): OnnxModel {
  const init = d.cnn.params.map((p) => {
    if (p.shape.length === 4) return { name: p.name, shape: [p.shape[3]!, p.shape[2]!, p.shape[0]!, p.shape[1]!], data: hwioToOihw(p.data, p.shape) };
    if (p.name === 'd1') return { ...p, data: nhwcRowsToNchw(p.data, [7, 7, 64], 1024) };
    return p;
  });
  const pool = { kernel_shape: [2, 2], strides: [2, 2] };
  const conv = { kernel_shape: [5, 5], pads: [2, 2, 2, 2] };
  return {
    inputs: [{ name: 'x', shape: [CNN_BATCH, 1, 28, 28] }],
    outputs: [{ name: 'logits', shape: [CNN_BATCH, 10] }],
    initializers: init,
    nodes: [
      { op: 'Conv', inputs: ['x', 'c1', 'cb1'], outputs: ['a1'], attrs: conv },
      { op: 'Relu', inputs: ['a1'], outputs: ['r1'] },
      { op: 'MaxPool', inputs: ['r1'], outputs: ['p1'], attrs: pool },
      { op: 'Conv', inputs: ['p1', 'c2', 'cb2'], outputs: ['a2'], attrs: conv },
      { op: 'Relu', inputs: ['a2'], outputs: ['r2'] },
      { op: 'MaxPool', inputs: ['r2'], outputs: ['p2'], attrs: pool },
      { op: 'Flatten', inputs: ['p2'], outputs: ['f'], attrs: { axis: 1 } },
      { op: 'MatMul', inputs: ['f', 'd1'], outputs: ['m1'] },
      { op: 'Add', inputs: ['m1', 'db1'], outputs: ['z1'] },
      { op: 'Relu', inputs: ['z1'], outputs: ['h1'] },
      { op: 'MatMul', inputs: ['h1', 'd2'], outputs: ['m2'] },
      { op: 'Add', inputs: ['m2', 'db2'], outputs: ['logits'] },
    ],
  };
}

function matmulModel(): OnnxModel {
  return {
    inputs: [
      { name: 'a', shape: [MATMUL_N, MATMUL_N] },
      { name: 'b', shape: [MATMUL_N, MATMUL_N] },
    ],
    outputs: [{ name: 'c', shape: [MATMUL_N, MATMUL_N] }],
    initializers: [],
    nodes: [{ op: 'MatMul', inputs: ['a', 'b'], outputs: ['c'] }],
  };
}

async function forwardCase(model: OnnxModel, feeds: Record<string, ort.Tensor>, threads: number): Promise<Case> {
  const sess = await ort.InferenceSession.create(encodeOnnxModel(model), {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    // Its worker threads must not spin after a run: cells are interleaved in one process, and a
    // spinning pool would take the second core from whichever framework runs next.
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  });
  const out = model.outputs[0]!.name;
  const call = async () => (await sess.run(feeds))[out]!.data as Float32Array;
  let last = await call();
  return {
    run: async () => void (last = await call()),
    check: async () => Float32Array.from(last),
    dispose: () => sess.release(),
  };
}

export async function ortFramework(d: BenchData, threads: number, version: string): Promise<Framework> {
  const t = (data: Float32Array, dims: number[]) => new ort.Tensor('float32', data, dims);
  return {
    name: `onnxruntime-${threads}t`,
    version,
    async setup(w: WorkloadId): Promise<Case | string> {
      switch (w) {
        case 'matmul':
          return forwardCase(matmulModel(), { a: t(d.matmul.a, [MATMUL_N, MATMUL_N]), b: t(d.matmul.b, [MATMUL_N, MATMUL_N]) }, threads);
        case 'mlp-fwd':
          return forwardCase(mlpModel(d), { x: t(d.mlp.x, [MLP_BATCH, 784]) }, threads);
        case 'cnn-fwd':
          return forwardCase(cnnModel(d), { x: t(d.cnn.x, [CNN_BATCH, 1, 28, 28]) }, threads);
        case 'mlp-train':
        case 'mlp-first':
          return 'inference only (onnxruntime-node ships no training API)';
      }
    },
  };
}
