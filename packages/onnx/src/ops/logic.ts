/** Comparison and logical ONNX operators: Equal, Less, Greater, ...OrEqual, And, Or, Xor, Not, Where. */
import { equal, greater, greaterEqual, less, lessEqual, logicalAnd, logicalNot, logicalOr, notEqual, where } from '@kiln/graph';
import { register } from '../registry.js';

register('Equal', (ctx) => [equal(ctx.input(0), ctx.input(1))]);
register('Less', (ctx) => [less(ctx.input(0), ctx.input(1))]);
register('LessOrEqual', (ctx) => [lessEqual(ctx.input(0), ctx.input(1))]);
register('Greater', (ctx) => [greater(ctx.input(0), ctx.input(1))]);
register('GreaterOrEqual', (ctx) => [greaterEqual(ctx.input(0), ctx.input(1))]);
register('And', (ctx) => [logicalAnd(ctx.input(0), ctx.input(1))]);
register('Or', (ctx) => [logicalOr(ctx.input(0), ctx.input(1))]);
register('Xor', (ctx) => [notEqual(ctx.input(0), ctx.input(1))]);
register('Not', (ctx) => [logicalNot(ctx.input(0))]);
register('Where', (ctx) => [where(ctx.input(0), ctx.input(1), ctx.input(2))]);
