/**
 * The OpName union is the registry: every op Kiln registers is in OP_NAMES and every name
 * there is registered, so tables typed `Record<OpName, ...>` (the elementwise lowerings) cover
 * exactly the ops that exist. The lowering table agrees with what fusion treats as elementwise.
 */
import { describe, expect, it } from '@jest/globals';
import { getElementwiseLowering } from '@kiln/compiler';
import { OP_NAMES, allOps, isOpName } from '@kiln/graph';

describe('OpName', () => {
  it('lists exactly the registered ops', () => {
    expect([...OP_NAMES].sort()).toEqual(
      allOps()
        .map((d) => d.name)
        .sort(),
    );
    expect(new Set(OP_NAMES).size).toBe(OP_NAMES.length);
  });
  it('isOpName accepts the ops and nothing else', () => {
    expect(OP_NAMES.every(isOpName)).toBe(true);
    expect(isOpName('matmul')).toBe(false);
    expect(isOpName('toString')).toBe(false);
  });
  it('the elementwise lowering table has a rule exactly for the single-output, stateless elementwise ops', () => {
    const lowered = OP_NAMES.filter((n) => getElementwiseLowering(n) !== undefined);
    expect(lowered).toContain('relu');
    expect(lowered).not.toContain('matMul');
    for (const n of lowered)
      expect({
        n,
        family: ['elementwise', 'compare'].includes(allOps().find((d) => d.name === n)!.family) || n === 'cast' || n.startsWith('broadcast') || n === 'where',
      }).toEqual({ n, family: true });
  });
});
