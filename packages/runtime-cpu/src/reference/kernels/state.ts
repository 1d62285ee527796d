/**
 * Reference kernels: state family. assign* stage a write through ctx.writeVariable (the
 * executor commits writes only when the whole run succeeds) and read the variable through
 * ctx.readVariable, so several updates of one variable in a run compose in graph order.
 */
import { KilnError, type Node, Tensor, fmtShape } from '@kiln/graph';
import { type RefContext, registerRefKernel } from '../registry.js';

function targetVariable(ctx: RefContext): Node {
  const v = ctx.node.inputs[0]?.node;
  if (!v || v.op !== 'variable') {
    throw new KilnError(
      'INVALID_ARGUMENT',
      `${ctx.node.op} '${ctx.node.name}': input 0 must be the output of a variable node, got ${v ? `'${v.name}' (${v.op})` : 'nothing'}`,
    );
  }
  return v;
}

function checkValue(ctx: RefContext, current: Tensor, value: Tensor): void {
  const same = value.dtype === current.dtype && value.shape.length === current.shape.length && value.shape.every((d, i) => d === current.shape[i]);
  if (!same) {
    throw new KilnError(
      value.dtype === current.dtype ? 'SHAPE_MISMATCH' : 'DTYPE_MISMATCH',
      `${ctx.node.op} '${ctx.node.name}': value must be ${current.dtype}${fmtShape(current.shape)} like the variable, got ${value.dtype}${fmtShape(value.shape)}`,
    );
  }
}

function update(sign: 1 | -1) {
  return (inputs: Tensor[], _attrs: unknown, ctx: RefContext): Tensor[] => {
    const v = targetVariable(ctx);
    const current = ctx.readVariable(v);
    const delta = inputs[1]!;
    checkValue(ctx, current, delta);
    const out = new Tensor(current.dtype, current.shape);
    const a = current.data;
    const b = delta.data;
    const o = out.data;
    for (let i = 0; i < o.length; i++) o[i] = a[i]! + sign * b[i]!;
    ctx.writeVariable(v, out);
    return [out];
  };
}

registerRefKernel('assign', (inputs, _attrs, ctx) => {
  const v = targetVariable(ctx);
  const value = inputs[1]!;
  checkValue(ctx, ctx.readVariable(v), value);
  // A private copy: the stored value must not alias a feed or another node's output.
  const stored = value.clone();
  ctx.writeVariable(v, stored);
  return [stored];
});
registerRefKernel('assignAdd', update(1));
registerRefKernel('assignSub', update(-1));

registerRefKernel('noOp', () => [new Tensor('bool', [])]);
