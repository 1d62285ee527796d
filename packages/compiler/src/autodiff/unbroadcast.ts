/**
 * unbroadcast(dy, inputShape): reduces the gradient of a broadcasting op's output back to the
 * shape of one of its inputs, by summing over the axes along which that input was broadcast.
 *
 * Broadcast axes are the leading axes the input lacks, and the axes where the input has size 1
 * but dy does not (size unknown counts as "not 1": summing a size-1 axis is harmless). An
 * unknown input dim (null) is assumed not to have been broadcast (null matches the output dim).
 *
 * Done as two sums so that no reshape with unknown dims is needed: the leading axes are
 * summed away (keepDims=false), then the size-1 axes are summed with keepDims=true, which
 * leaves exactly the input's rank with 1 where the input had 1.
 */
import { KilnError, type SymbolicTensor, fmtShape, sum } from '@kiln/graph';

export function unbroadcast(dy: SymbolicTensor, inputShape: readonly (number | null)[]): SymbolicTensor {
  const lead = dy.shape.length - inputShape.length;
  if (lead < 0) {
    throw new KilnError('INTERNAL', `unbroadcast: gradient '${dy.name}' ${fmtShape(dy.shape)} has lower rank than the input ${fmtShape(inputShape)}`);
  }
  let g = dy;
  if (lead > 0) g = sum(g, [...Array(lead).keys()], false);
  const ones: number[] = [];
  inputShape.forEach((d, i) => {
    if (d === 1 && g.shape[i] !== 1) ones.push(i);
  });
  if (ones.length > 0) g = sum(g, ones, true);
  return g;
}
