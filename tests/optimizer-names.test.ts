/**
 * Optimizer node names are not doubled: inside the optimizer's name scope, an assign to the
 * slot 'Adam/w/m' is 'Adam/w/m/assign' (it was 'Adam/Adam/w/m/assign'), and an update of the
 * variable 'w' is 'Adam/w/assignSub'.
 */
import { describe, expect, it } from '@jest/globals';
import * as kiln from 'kiln';

describe('optimizer node names', () => {
  it('name assigns relative to the optimizer scope', () => {
    const g = new kiln.Graph();
    const w = g.variable(kiln.tensor([1, 2]), 'w');
    kiln.train.adam(0.1).minimize(kiln.sum(kiln.square(w)));
    const assigns = g.nodes
      .filter((n) => n.op.startsWith('assign'))
      .map((n) => n.name)
      .sort();
    expect(assigns).toEqual(['Adam/beta1_power/assign', 'Adam/beta2_power/assign', 'Adam/w/assignSub', 'Adam/w/m/assign', 'Adam/w/v/assign']);
    expect(g.nodes.some((n) => n.name.includes('Adam/Adam'))).toBe(false);
  });
});
