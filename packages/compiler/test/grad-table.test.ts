/**
 * The gradient table test over the op registry: every registered op must have a gradient rule
 * or be declared non-differentiable, and every op must appear in this file's tables: either
 * with gradient-check cases (checked against central finite differences on the reference
 * executor, see grad-check.ts for eps and tolerances) or in an explicit list of ops that are
 * not checked (sources, state, non-differentiable ops) with the reason. A new op without an
 * entry fails here, so no op sneaks in without a checked gradient.
 */
import { describe, expect, it } from '@jest/globals';
import { Graph, allOps } from '@kiln/graph';
import { getGradient, isNonDifferentiable } from '@kiln/compiler';
import { type CaseTable, compareCases, elementwiseCases, reduceCases } from './grad-cases-basic.js';
import { movementCases } from './grad-cases-movement.js';
import { nnCases } from './grad-cases-nn.js';
import { gradCheck } from './grad-check.js';

/** Ops created by Graph methods: no inputs, nothing to differentiate. */
const SOURCES: Record<string, string> = {
  placeholder: 'source',
  variable: 'source',
  const: 'source',
};

/** Effects and targets: declared non-differentiable by the state family. */
const STATE: Record<string, string> = {
  assign: 'variable update (effect)',
  assignAdd: 'variable update (effect)',
  assignSub: 'variable update (effect)',
  noOp: 'target (no data)',
};

/** Ops whose outputs are piecewise constant, integer/bool, or random: declared non-differentiable. */
const NON_DIFFERENTIABLE: Record<string, string> = {
  equal: 'bool output',
  notEqual: 'bool output',
  less: 'bool output',
  lessEqual: 'bool output',
  greater: 'bool output',
  greaterEqual: 'bool output',
  logicalAnd: 'bool in and out',
  logicalOr: 'bool in and out',
  logicalNot: 'bool in and out',
  sign: 'piecewise constant',
  floor: 'piecewise constant',
  ceil: 'piecewise constant',
  round: 'piecewise constant',
  stopGradient: 'blocks gradients by definition',
  argMax: 'int32 output',
  argMin: 'int32 output',
  oneHot: 'int32 indices in',
  randomNormal: 'random draw (no tensor input)',
  randomUniform: 'random draw (no tensor input)',
  truncatedNormal: 'random draw (no tensor input)',
  multinomial: 'int32 samples',
};

const CASES: CaseTable = { ...elementwiseCases(), ...compareCases(), ...reduceCases(), ...movementCases(), ...nnCases() };

const registered = allOps().map((d) => d.name);
const registeredSet = new Set(registered);
const differentiable = registered.filter((op) => !(op in SOURCES) && !(op in STATE) && !(op in NON_DIFFERENTIABLE));

describe('gradient table over the op registry', () => {
  it('has an entry for every registered op', () => {
    const missing = registered.filter((op) => !(op in SOURCES) && !(op in STATE) && !(op in NON_DIFFERENTIABLE) && !(op in CASES));
    expect(missing).toEqual([]);
  });

  it('lists only registered ops (no stale entries)', () => {
    const all = [...Object.keys(SOURCES), ...Object.keys(STATE), ...Object.keys(NON_DIFFERENTIABLE), ...Object.keys(CASES)];
    expect(all.filter((op) => !registeredSet.has(op))).toEqual([]);
  });

  it('gives every non-source op a gradient rule or a non-differentiable declaration', () => {
    const bare = registered.filter((op) => !(op in SOURCES) && !getGradient(op) && !isNonDifferentiable(op));
    expect(bare).toEqual([]);
  });

  it('declares the state and non-differentiable ops non-differentiable', () => {
    const expected = [...Object.keys(STATE), ...Object.keys(NON_DIFFERENTIABLE)].filter((op) => registeredSet.has(op));
    expect(expected.filter((op) => !isNonDifferentiable(op))).toEqual([]);
  });

  it('gives every differentiable op a gradient rule', () => {
    expect(differentiable.filter((op) => !getGradient(op))).toEqual([]);
  });
});

describe('gradients match central finite differences', () => {
  for (const op of differentiable.filter((o) => o in CASES)) {
    it(`${op}`, () => {
      const failures: string[] = [];
      CASES[op]!.forEach((build, i) => {
        let res;
        try {
          res = gradCheck(new Graph(), build, { seed: 1000 + i });
        } catch (e) {
          failures.push(`case ${i}: ${(e as Error).message.split('\n')[0]}`);
          return;
        }
        expect(res.checked).toBeGreaterThan(0);
        if (!res.ok) failures.push(`case ${i}: ${res.message}`);
      });
      expect(failures).toEqual([]);
    });
  }
});
