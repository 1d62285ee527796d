/**
 * Gradient-check cases for the movement family (reshape, transpose, concat, gather, pad, ...):
 * op name -> builders on random inputs. Used by grad-table.test.ts.
 */
import * as k from '@kiln/graph';
import { tensor } from '@kiln/graph';
import type { CaseTable } from './grad-cases-basic.js';

export function movementCases(): CaseTable {
  const ids = (values: number[], shape: number[]) => tensor(values, shape, 'int32');
  return {
    reshape: [(b) => k.reshape(b.x([2, 3]), [3, 2]), (b) => k.reshape(b.x([2, 3, 2]), [-1, 4])],
    transpose: [(b) => k.transpose(b.x([2, 3])), (b) => k.transpose(b.x([2, 3, 4]), [1, 2, 0])],
    expandDims: [(b) => k.expandDims(b.x([2, 3]), 1), (b) => k.expandDims(b.x([3]), -1)],
    squeeze: [(b) => k.squeeze(b.x([2, 1, 3, 1])), (b) => k.squeeze(b.x([1, 3, 1]), [0])],
    concat: [(b) => k.concat([b.x([2, 3]), b.x([1, 3])], 0), (b) => k.concat([b.x([2, 1]), b.x([2, 2]), b.x([2, 3])], -1)],
    stack: [(b) => k.stack([b.x([2, 3]), b.x([2, 3])], 0), (b) => k.stack([b.x([3]), b.x([3]), b.x([3])], 1)],
    split: [(b) => k.split(b.x([4, 3]), 2, 0), (b) => k.split(b.x([2, 5]), [1, 3, 1], 1)],
    slice: [(b) => k.slice(b.x([3, 4]), [1, 1], [2, 2]), (b) => k.slice(b.x([4, 3]), 1), (b) => k.slice(b.x([2, 3, 2]), [0, 1, 0], [-1, 1, 1])],
    gather: [
      (b) => k.gather(b.x([4, 3]), b.fixed(ids([2, 0, 2], [3]))),
      (b) => k.gather(b.x([2, 4]), b.fixed(ids([3, 1, 1, 0], [2, 2])), 1),
      (b) => k.gather(b.x([2, 3, 2]), b.fixed(ids([2, 0, 1, 1], [2, 2])), 1, 1),
    ],
    pad: [
      (b) =>
        k.pad(b.x([2, 3]), [
          [1, 0],
          [2, 1],
        ]),
      (b) => k.pad(b.x([3]), [[0, 2]], 5),
    ],
    tile: [(b) => k.tile(b.x([2, 3]), [2, 1]), (b) => k.tile(b.x([1, 2]), [3, 2])],
    broadcastTo: [(b) => k.broadcastTo(b.x([3]), [2, 3]), (b) => k.broadcastTo(b.x([2, 1]), [2, 2, 3])],
    broadcastLike: [
      (b) =>
        k.broadcastLike(
          b.x([3]),
          b.fixed(
            tensor([
              [0, 0, 0],
              [0, 0, 0],
            ]),
          ),
        ),
      (b) => k.broadcastLike(b.x([2, 1]), b.x([2, 4])),
    ],
  };
}
