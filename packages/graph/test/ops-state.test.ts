/** State ops: assign / assignAdd / assignSub construction and inference; noOp / group targets. */
import { describe, expect, it } from '@jest/globals';
import { Graph, add, assign, assignAdd, assignSub, getOp, group, noOp, tensor } from '@kiln/graph';
import { kilnErrorText } from '../../../tests/helpers/kiln-error.js';

describe('assign ops', () => {
  it('take a variable and a same-typed value and output the new value', () => {
    const g = new Graph();
    const v = g.variable(tensor([1, 2, 3]), 'w');
    const x = g.placeholder('float32', [3], 'x');
    for (const [fn, op] of [
      [assign, 'assign'],
      [assignAdd, 'assignAdd'],
      [assignSub, 'assignSub'],
    ] as const) {
      const y = fn(v, x);
      expect(y.node.op).toBe(op);
      expect(y.dtype).toBe('float32');
      expect(y.shape).toEqual([3]);
      expect(y.node.inputs.map((i) => i.name)).toEqual(['w', 'x']);
      expect(getOp(op).stateful).toBe(true);
      expect(getOp(op).family).toBe('state');
    }
  });

  it('turn a JS literal into a constant of the variable dtype', () => {
    const g = new Graph();
    const v = g.variable(tensor([1, 2], [2], 'int32'), 'n');
    const y = assignAdd(v, [5, 6]);
    expect(y.node.inputs[1]!.dtype).toBe('int32');
    expect(y.node.inputs[1]!.node.op).toBe('const');
  });

  it('accept a value whose unknown dims are compatible', () => {
    const g = new Graph();
    const v = g.variable(tensor([[1, 2]]), 'w');
    const x = g.placeholder('float32', [null, 2], 'x');
    expect(assign(v, x).shape).toEqual([1, 2]);
  });

  it('reject a first argument that is not a variable output', () => {
    const g = new Graph();
    const v = g.variable(tensor([1, 2]), 'w');
    const s = add(v, 1);
    const msg = kilnErrorText(() => assign(s, [0, 0]));
    expect(msg).toMatch(/^INVALID_ARGUMENT: assign: .*variable node.*'add' \(add\)/);
    expect(kilnErrorText(() => assignAdd(tensor([1]) as never, [0]))).toMatch(/^INVALID_ARGUMENT: assignAdd: .*Tensor/);
  });

  it('reject a value of another dtype, naming both types', () => {
    const g = new Graph();
    const v = g.variable(tensor([1, 2]), 'w');
    const x = g.placeholder('int32', [2], 'x');
    const msg = kilnErrorText(() => assign(v, x));
    expect(msg).toMatch(/^DTYPE_MISMATCH: assign 'w\/assign'/);
    expect(msg).toContain('float32[2]');
    expect(msg).toContain('int32[2]');
  });

  it('reject a value of another shape, naming both shapes', () => {
    const g = new Graph();
    const v = g.variable(
      tensor([
        [1, 2],
        [3, 4],
      ]),
      'w',
    );
    const msg = kilnErrorText(() => assignSub(v, g.placeholder('float32', [2, 3], 'x')));
    expect(msg).toMatch(/^SHAPE_MISMATCH: assignSub/);
    expect(msg).toContain('[2,2]');
    expect(msg).toContain('[2,3]');
    expect(kilnErrorText(() => assign(v, [1, 2]))).toMatch(/^SHAPE_MISMATCH: .*\[2,2\].*\[2\]/);
  });

  it('reject arithmetic updates of a bool variable', () => {
    const g = new Graph();
    const v = g.variable(tensor([true, false]), 'flags');
    expect(kilnErrorText(() => assignAdd(v, [true, true]))).toMatch(/^DTYPE_MISMATCH: assignAdd .*bool/);
    expect(assign(v, [false, true]).dtype).toBe('bool');
  });
});

describe('noOp / group', () => {
  it('group makes a target node with control inputs on the grouped nodes', () => {
    const g = new Graph();
    const a = g.variable(tensor([1]), 'a');
    const b = g.variable(tensor([2]), 'b');
    const ua = assign(a, [3]);
    const ub = assignAdd(b, [1]);
    const t = group(ua, [ub, ua]);
    expect(t.node.op).toBe('noOp');
    expect(t.node.name).toBe('group');
    expect(t.node.inputs).toEqual([]);
    expect(t.node.controlInputs).toEqual([ua.node, ub.node]);
    expect(getOp('noOp').target).toBe(true);
    expect(getOp('noOp').stateful).toBe(true);
  });

  it('noOp works without dependencies and takes a name', () => {
    const g = new Graph();
    const t = noOp(g, [], 'init');
    expect(t.node.name).toBe('init');
    expect(t.node.controlInputs).toEqual([]);
    const x = g.placeholder('float32', [1], 'x');
    expect(noOp(g, [x]).node.controlInputs).toEqual([x.node]);
  });

  it('group rejects no arguments, non-tensors and tensors of several graphs', () => {
    const g1 = new Graph();
    const g2 = new Graph();
    expect(kilnErrorText(() => group())).toMatch(/^INVALID_ARGUMENT: group: needs at least one/);
    expect(kilnErrorText(() => group(g1.placeholder('float32', [1]), 3 as never))).toMatch(/^INVALID_ARGUMENT: group: argument 1 .*number/);
    const msg = kilnErrorText(() => group(g1.placeholder('float32', [1], 'p'), g2.placeholder('float32', [1], 'q')));
    expect(msg).toMatch(/^INVALID_ARGUMENT: group: 'q' belongs to another graph/);
  });
});
