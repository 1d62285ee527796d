/**
 * A trained model through ONNX: the MNIST CNN (conv -> pool -> conv -> pool -> dense) is
 * trained for a few Adam steps on real digits in a Kiln session, exported with the trained
 * variable values, and run in onnxruntime-node on a batch of another size (the batch is a
 * dim_param); its probabilities must match the session's (atol 1e-5, rtol 1e-3: two
 * convolutions and a 392-long dot product). importOnnx of the same bytes must match too.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { exportOnnx, importOnnxModel } from '@kiln/onnx';
import { evaluate } from '@kiln/runtime-cpu';
import { session } from 'kiln';
import { buildMnistCnn, mnistBatch } from './helpers/mnist-cnn.js';
import { OnnxRuntime } from './helpers/onnx-runtime.js';
import { expectClose } from './helpers/reference-compare.js';

let ort: OnnxRuntime;
beforeAll(() => {
  ort = new OnnxRuntime();
});
afterAll(() => ort.close());

describe('exportOnnx: a trained MNIST CNN', () => {
  it('runs in onnxruntime with the trained weights and matches the session', async () => {
    const m = buildMnistCnn(3);
    const sess = await session(m.g);
    const batch = mnistBatch(3);
    const feeds = { x: batch.x, labels: batch.labels };
    const [before] = await sess.run([m.loss], feeds);
    for (let step = 0; step < 15; step++) await sess.run([m.trainOp], feeds);
    const [after] = await sess.run([m.loss], feeds);
    expect(after!.data[0]!).toBeLessThan(before!.data[0]! * 0.8);

    const test = mnistBatch(2, 100); // 20 images: another batch size than training's 30
    const [want] = await sess.run([m.probs], { x: test.x });
    const bytes = exportOnnx(m.g, { inputs: [m.x], outputs: [m.probs], variables: sess.variableValues() });
    const [got] = await ort.run(bytes, { x: test.x }, ['x']);
    expectClose(got, want!, 'onnxruntime probabilities', 1e-5, 1e-3);

    const back = importOnnxModel(bytes);
    expect(back.inputs[0]!.shape).toEqual([null, 28, 28, 1]);
    const [again] = evaluate(back.outputs, { [back.inputs[0]!.name]: test.x });
    expectClose(again, want!, 'importOnnx probabilities', 1e-5, 1e-3);
    sess.dispose();
  });
});
