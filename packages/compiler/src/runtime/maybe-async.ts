/**
 * Runs a generator that yields values which may be Promises: synchronously while every yielded
 * value is plain, asynchronously from the first Promise on. The program runner is written once
 * as such a generator, so a CPU device runs it without a single await and a GPU device (whose
 * downloads are Promises) runs the same code asynchronously.
 */
export function drive<Y, R>(gen: Generator<Y | Promise<Y>, R, Y>): R | Promise<R> {
  let step = gen.next();
  while (!step.done) {
    const v = step.value;
    if (v instanceof Promise) return finish(gen, v);
    step = gen.next(v);
  }
  return step.value;
}

async function finish<Y, R>(gen: Generator<Y | Promise<Y>, R, Y>, pending: Promise<Y>): Promise<R> {
  let step: IteratorResult<Y | Promise<Y>, R>;
  try {
    step = gen.next(await pending);
  } catch (e) {
    step = gen.throw(e);
  }
  while (!step.done) {
    let value: Y;
    try {
      value = await step.value;
    } catch (e) {
      step = gen.throw(e);
      continue;
    }
    step = gen.next(value);
  }
  return step.value;
}
