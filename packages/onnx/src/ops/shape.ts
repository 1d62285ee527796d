/**
 * Shape-computing and reshaping ONNX operators. Shape, Size, ConstantOfShape, Range and
 * Constant produce import-time constants (Shape/Size from a fully known static shape);
 * Reshape, Flatten, Squeeze, Unsqueeze and Expand take their shape or axes from constant
 * inputs (or attributes in older opsets) and map onto reshape / squeeze / expandDims /
 * broadcastTo.
 */
import {
  type DType,
  KilnError,
  type SymbolicTensor,
  Tensor,
  allocData,
  broadcastShapes,
  broadcastTo,
  castScalar,
  expandDims,
  fillTensor,
  fmtShape,
  identity,
  reshape,
  sizeOf,
  squeeze,
} from '@kiln/graph';
import type { ConvertContext, Produced } from '../context.js';
import { register } from '../registry.js';
import { int32Tensor, onnxAxis } from './util.js';

/** The fully known shape of input `i`, from its constant value or its static shape. */
function knownShape(ctx: ConvertContext, i: number, purpose: string): number[] {
  const k = ctx.tryConstant(i);
  if (k) return k.shape;
  return ctx.staticShape(i, purpose);
}

register(
  'Shape',
  (ctx) => {
    const shape = knownShape(ctx, 0, 'Shape (Kiln has no run-time shape op)');
    const r = shape.length;
    const clamp = (v: number): number => Math.min(Math.max(v < 0 ? v + r : v, 0), r);
    const start = clamp(ctx.int('start', 0));
    const end = clamp(ctx.int('end', r));
    return [int32Tensor(shape.slice(start, Math.max(start, end)))];
  },
  { shapeOnlyInputs: [0] },
);

register('Size', (ctx) => [int32Tensor([sizeOf(knownShape(ctx, 0, 'Size'))], [])], { shapeOnlyInputs: [0] });

register(
  'ConstantOfShape',
  (ctx) => {
    const shape = ctx.ints(0, 'shape');
    if (shape.some((d) => d < 0)) throw new KilnError('INVALID_ARGUMENT', `${ctx.what}: negative dim in shape [${shape.join(',')}]`);
    const value = ctx.tensorAttr('value');
    if (value && value.size !== 1) throw new KilnError('INVALID_ATTR', `${ctx.what}: value must hold one element, got ${fmtShape(value.shape)}`);
    const dtype: DType = value?.dtype ?? 'float32';
    return [fillTensor(shape, value ? value.data[0]! : 0, dtype)];
  },
  { staticInputs: [0] },
);

register(
  'Range',
  (ctx) => {
    const [s, l, d] = [0, 1, 2].map((i) => ctx.constant(i, ['start', 'limit', 'delta'][i]!));
    const dtype = s!.dtype;
    const start = s!.data[0]!;
    const limit = l!.data[0]!;
    const delta = d!.data[0]!;
    if (delta === 0) throw new KilnError('INVALID_ARGUMENT', `${ctx.what}: delta must not be 0`);
    const n = Math.max(Math.ceil((limit - start) / delta), 0);
    const data = allocData(dtype, n);
    for (let i = 0; i < n; i++) data[i] = castScalar(start + i * delta, dtype);
    return [new Tensor(dtype, [n], data)];
  },
  { staticInputs: [0, 1, 2] },
);

register('Constant', (ctx): Produced[] => {
  const t = ctx.tensorAttrSaturating('value');
  if (t) return [t];
  const f = ctx.float('value_float');
  if (f !== undefined) return [new Tensor('float32', [], Float32Array.of(f))];
  const fs = ctx.floatList('value_floats');
  if (fs) return [new Tensor('float32', [fs.length], Float32Array.from(fs))];
  const i = ctx.int('value_int');
  if (i !== undefined) return [int32Tensor([i], [])];
  const is = ctx.intList('value_ints');
  if (is) return [int32Tensor(is)];
  return ctx.unsupported('only tensor, float(s) and int(s) values are supported (not sparse or string values)');
});

/** ONNX Reshape target (0 copies a dim unless allowzero, -1 infers) -> Kiln's reshape shape. */
register(
  'Reshape',
  (ctx) => {
    const x = ctx.input(0);
    const target = ctx.ints(1, 'shape');
    const allowZero = ctx.int('allowzero', 0) === 1;
    const dims: (number | null)[] = target.map((d, i) => {
      if (d === 0 && !allowZero) {
        if (i >= x.shape.length)
          throw new KilnError('SHAPE_MISMATCH', `${ctx.what}: shape [${target.join(',')}] copies dim ${i} but x is ${fmtShape(x.shape)}`);
        return x.shape[i]!;
      }
      return d;
    });
    let out: number[];
    if (dims.every((d) => d !== null)) out = dims as number[];
    else if (!dims.includes(-1) && dims.filter((d) => d === null).length === 1) out = dims.map((d) => (d === null ? -1 : d));
    else return ctx.unsupported(`cannot express reshape of ${fmtShape(x.shape)} to [${target.join(',')}] with unknown dims`);
    return [reshape(x, out)];
  },
  { staticInputs: [1] },
);

register('Flatten', (ctx) => {
  const x = ctx.input(0);
  const r = x.shape.length;
  let axis = ctx.int('axis', 1);
  if (axis < -r || axis > r) throw new KilnError('INVALID_ATTR', `${ctx.what}: axis ${axis} is out of range for rank ${r}`);
  if (axis < 0) axis += r;
  const part = (ds: readonly (number | null)[]): number | null => (ds.includes(null) ? null : sizeOf(ds as number[]));
  const a = part(x.shape.slice(0, axis));
  const b = part(x.shape.slice(axis));
  if (a === null && b === null) return ctx.unsupported(`cannot flatten ${fmtShape(x.shape)} at axis ${axis}: unknown dims on both sides`);
  return [reshape(x, [a ?? -1, b ?? -1])];
});

function axesOf(ctx: ConvertContext): number[] | undefined {
  if (ctx.opset >= 13) return ctx.has(1) ? ctx.ints(1, 'axes') : undefined;
  return ctx.intList('axes');
}

register(
  'Squeeze',
  (ctx) => {
    const x = ctx.input(0);
    const axes = axesOf(ctx);
    if (!axes || axes.length === 0) return [squeeze(x)];
    return [
      squeeze(
        x,
        axes.map((a) => onnxAxis(ctx, a, x.shape.length, 'axes')),
      ),
    ];
  },
  { staticInputs: (opset) => (opset >= 13 ? [1] : []) },
);

register(
  'Unsqueeze',
  (ctx) => {
    let x: SymbolicTensor = ctx.input(0);
    const axes = axesOf(ctx);
    if (!axes) return ctx.unsupported('Unsqueeze without axes');
    const outRank = x.shape.length + axes.length;
    const norm = axes.map((a) => onnxAxis(ctx, a, outRank, 'axes')).sort((a, b) => a - b);
    if (new Set(norm).size !== norm.length) throw new KilnError('INVALID_ATTR', `${ctx.what}: repeated axis in [${axes.join(',')}]`);
    for (const a of norm) x = expandDims(x, a);
    return [norm.length ? x : identity(x)];
  },
  { staticInputs: (opset) => (opset >= 13 ? [1] : []) },
);

/** Expand broadcasts both ways: the result shape is broadcast(x.shape, shape). */
register(
  'Expand',
  (ctx) => {
    const x = ctx.input(0);
    const shape = ctx.ints(1, 'shape');
    const target = broadcastShapes(x.shape, shape, ctx.what);
    if (target.includes(null)) return ctx.unsupported(`Expand of ${fmtShape(x.shape)} needs a fully known result shape, got ${fmtShape(target)}`);
    const same = target.length === x.shape.length && target.every((d, i) => d === x.shape[i]);
    return [same ? identity(x) : broadcastTo(x, target as number[])];
  },
  { staticInputs: [1] },
);
