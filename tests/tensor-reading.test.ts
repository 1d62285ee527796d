/**
 * Reading tensors as TensorFlow.js does (dataSync, arraySync, array, print) and printing
 * NaN and infinities as such; typed Session.run results (a tensor fetch is a Tensor, a target
 * fetch null: checked by tsc on this file, and at run time here).
 */
import { describe, expect, it, jest } from '@jest/globals';
import * as kiln from 'kiln';
import { Graph, tensor } from 'kiln';

describe('tensor reading', () => {
  it('dataSync copies, arraySync/array nest, print logs toString', async () => {
    const t = tensor([
      [1, NaN],
      [-Infinity, 4],
    ]);
    const flat = t.dataSync();
    expect(Array.from(flat)).toEqual([1, NaN, -Infinity, 4]);
    flat[0] = 9;
    expect(t.data[0]).toBe(1);
    expect(t.arraySync()).toEqual([
      [1, NaN],
      [-Infinity, 4],
    ]);
    expect(await t.array()).toEqual([
      [1, NaN],
      [-Infinity, 4],
    ]);
    expect(t.toString()).toBe('Tensor<float32[2,2]>([[1,NaN],[-Infinity,4]])');
    expect(tensor([true, false]).toString()).toBe('Tensor<bool[2]>([true,false])');
    expect(tensor(3).toString()).toBe('Tensor<float32[]>(3)');
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    tensor([Infinity]).print();
    expect(log).toHaveBeenCalledWith('Tensor<float32[1]>([Infinity])');
    log.mockRestore();
  });

  it('Session.run gives Tensors for tensor fetches and null for targets', async () => {
    const g = new Graph();
    const w = g.variable(tensor([1, 2]), 'w');
    const loss = kiln.sum(kiln.square(w));
    const step = kiln.train.sgd(0.25).minimize(loss);
    const s = await kiln.session(g);
    const [l, target] = await s.run([loss, step]);
    expect(l.arraySync()).toBe(5); // typed Tensor: no non-null assertion needed
    expect(target).toBeNull();
    const [after] = await s.run([w]);
    expect(after.arraySync()).toEqual([0.5, 1]);
  });
});
