/** The conv, pool, normalization and random ops survive the text IR and protobuf round trips (attrs with nulls, empty lists). */
import { describe, expect, it } from '@jest/globals';
import * as k from '@kiln/graph';

function build(): k.Graph {
  const g = new k.Graph();
  const x = g.placeholder('float32', [null, 8, 8, 3], 'x');
  const f = g.placeholder('float32', [3, 3, 3, 4], 'f');
  const y = k.conv2d(
    x,
    f,
    2,
    [
      [0, 0],
      [1, 1],
      [0, 1],
      [0, 0],
    ],
    'NHWC',
    1,
    'ceil',
  );
  k.conv2dTranspose(k.conv2d(y, g.placeholder('float32', [1, 1, 4, 4], 'f1'), 1, 'valid'), f, [null, 11, 9, 3], 2, 'valid');
  k.depthwiseConv2d(x, g.placeholder('float32', [3, 3, 3, 2], 'fd'), 1, 'same', 'NHWC', 2);
  const p = k.avgPool(k.maxPool(x, 2, 1, 'same', undefined, { dilations: 2 }), 3, 2, 1, 'ceil', { countIncludePad: true });
  k.batchNorm(p, g.placeholder('float32', [3], 'm'), g.placeholder('float32', [3], 'v'));
  k.layerNorm(k.softmax(k.logSoftmax(p, 1)), null, null, 1, 1e-5);
  k.dropout(p, 0.3, [null, 1, 1, 3], 11);
  return g;
}

describe('nn ops round trips', () => {
  it('text IR: print -> parse -> print is stable', () => {
    const text = k.printGraph(build());
    expect(k.printGraph(k.parseGraph(text))).toBe(text);
  });
  it('protobuf: serialize -> deserialize keeps the text IR', () => {
    const g = build();
    expect(k.printGraph(k.deserializeGraph(k.serializeGraph(g)))).toBe(k.printGraph(g));
  });
});
