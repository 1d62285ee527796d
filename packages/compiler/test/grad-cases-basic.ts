/**
 * Gradient-check cases for the elementwise, compare and reduce families: op name -> builders
 * that create the op on random inputs of valid domains (kinks and poles avoided), including
 * broadcasting cases. Used by grad-table.test.ts.
 */
import * as k from '@kiln/graph';
import { type SymbolicTensor, tensor } from '@kiln/graph';
import type { CaseBuilder, Domain } from './grad-check.js';

export type Case = (b: CaseBuilder) => SymbolicTensor | SymbolicTensor[];
export type CaseTable = Record<string, Case[]>;

type Bin = (a: SymbolicTensor, b: SymbolicTensor) => SymbolicTensor;
type Un = (x: SymbolicTensor) => SymbolicTensor;

/** Same-shape, vector-broadcast, outer-broadcast and scalar-broadcast cases for a binary op. */
function binaryCases(f: Bin, da: Domain = 'any', db: Domain = 'any'): Case[] {
  return [
    (b) => f(b.x([2, 3], da), b.x([2, 3], db)),
    (b) => f(b.x([2, 3], da), b.x([3], db)),
    (b) => f(b.x([2, 1], da), b.x([1, 3], db)),
    (b) => f(b.x([], da), b.x([2, 2], db)),
  ];
}

function unaryCases(f: Un, d: Domain = 'any'): Case[] {
  return [(b) => f(b.x([2, 3], d)), (b) => f(b.x([4], d))];
}

/** Values on a 0.5 grid shifted by `shift`: two such sets with different shifts never tie. */
const grid =
  (shift: number): Domain =>
  (r) =>
    Math.floor(r() * 5) * 0.5 - 1 + shift;
/** Avoids relu6's kinks at 0 and 6. */
const relu6Domain: Domain = (r) => [-0.7, 0.4, 2.5, 5.6, 6.5][Math.floor(r() * 5)]! + r() * 0.2;
/** Avoids clipByValue(-0.5, 0.5)'s kinks. */
const clipDomain: Domain = (r) => [-0.9, -0.3, 0.1, 0.7][Math.floor(r() * 4)]! + r() * 0.1;

export function elementwiseCases(): CaseTable {
  return {
    add: binaryCases(k.add),
    sub: binaryCases(k.sub),
    mul: binaryCases(k.mul),
    div: binaryCases(k.div, 'any', 'away'),
    pow: [...binaryCases(k.pow, 'positive', 'any'), (b) => k.pow(b.x([3], 'positive'), 2)],
    maximum: binaryCases(k.maximum, grid(0.1), grid(-0.15)),
    minimum: binaryCases(k.minimum, grid(0.1), grid(-0.15)),
    squaredDifference: binaryCases(k.squaredDifference),
    neg: unaryCases(k.neg),
    abs: unaryCases(k.abs, 'away'),
    square: unaryCases(k.square),
    exp: unaryCases(k.exp),
    log: unaryCases(k.log, 'positive'),
    sqrt: unaryCases(k.sqrt, 'positive'),
    rsqrt: unaryCases(k.rsqrt, 'positive'),
    reciprocal: unaryCases(k.reciprocal, 'away'),
    sin: unaryCases(k.sin),
    cos: unaryCases(k.cos),
    tanh: unaryCases(k.tanh),
    sigmoid: unaryCases(k.sigmoid),
    relu: unaryCases(k.relu, 'away'),
    relu6: unaryCases(k.relu6, relu6Domain),
    elu: unaryCases(k.elu, 'away'),
    selu: unaryCases(k.selu, 'away'),
    softplus: [...unaryCases(k.softplus), (b) => k.softplus(b.x([3], (r) => r() * 8 - 4))],
    erf: unaryCases(k.erf),
    tan: unaryCases(k.tan, (r) => r() * 2 - 1),
    asin: unaryCases(k.asin, (r) => r() * 1.6 - 0.8),
    acos: unaryCases(k.acos, (r) => r() * 1.6 - 0.8),
    atan: unaryCases(k.atan),
    sinh: unaryCases(k.sinh),
    cosh: unaryCases(k.cosh),
    asinh: unaryCases(k.asinh),
    acosh: unaryCases(k.acosh, (r) => 1.2 + r() * 2),
    atanh: unaryCases(k.atanh, (r) => r() * 1.6 - 0.8),
    gelu: [(b) => k.gelu(b.x([2, 3])), (b) => k.gelu(b.x([2, 3]), true)],
    leakyRelu: [(b) => k.leakyRelu(b.x([2, 3], 'away')), (b) => k.leakyRelu(b.x([4], 'away'), 0.3)],
    clipByValue: [(b) => k.clipByValue(b.x([2, 4], clipDomain), -0.5, 0.5)],
    identity: unaryCases(k.identity),
    // float -> float passes the gradient; through an int32 round trip nothing flows (zeros).
    cast: [(b) => k.cast(b.x([2, 3]), 'float32'), (b) => k.add(k.cast(k.cast(b.x([3], grid(0.2)), 'int32'), 'float32'), 1)],
  };
}

export function compareCases(): CaseTable {
  return {
    where: [
      (b) =>
        k.where(
          b.g.constant(
            tensor([
              [true, false, true],
              [false, false, true],
            ]),
          ),
          b.x([2, 3]),
          b.x([2, 3]),
        ),
      (b) => k.where(b.fixed(tensor([[true], [false]])), b.x([2, 3]), b.x([3])),
      (b) => k.where(b.fixed(tensor([true, false, true])), b.x([2, 1]), b.x([])),
    ],
  };
}

export function reduceCases(): CaseTable {
  const red = (f: (x: SymbolicTensor, axis?: number | number[], keepDims?: boolean) => SymbolicTensor, distinct: boolean): Case[] => {
    const X = (b: CaseBuilder, shape: number[]): SymbolicTensor => (distinct ? b.xDistinct(shape, -0.95) : b.x(shape));
    return [(b) => f(X(b, [2, 3])), (b) => f(X(b, [2, 3]), 1), (b) => f(X(b, [2, 3, 2]), [0, 2], true), (b) => f(X(b, [3, 2]), -2)];
  };
  return {
    sum: red(k.sum, false),
    mean: red(k.mean, false),
    max: red(k.max, true),
    min: red(k.min, true),
    prod: red(k.prod, true),
    cumsum: [
      (b) => k.cumsum(b.x([2, 3]), 1),
      (b) => k.cumsum(b.x([4]), 0, true),
      (b) => k.cumsum(b.x([3, 2]), 0, false, true),
      (b) => k.cumsum(b.x([3, 2]), -1, true, true),
    ],
    unsortedSegmentSum: [
      (b) => k.unsortedSegmentSum(b.x([4, 2]), b.fixed(tensor([0, 2, 0, 1], [4], 'int32')), 3),
      (b) => k.unsortedSegmentSum(b.x([3]), b.fixed(tensor([1, 1, 3], [3], 'int32')), 4),
    ],
  };
}
