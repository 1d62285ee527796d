/**
 * A Backend that runs plans on the reference executor: host Tensors, one obviously-correct
 * kernel per op, no compilation (prepare only checks that every op has a kernel). It is
 * kiln.session()'s `backend: 'reference'`: the oracle the compiled 'cpu' backend is tested against.
 */
import { KilnError, type Tensor } from '@kiln/graph';
import type { Backend, ExecInputs, ExecOutputs, Executable, ExecutionPlan, PrepareOptions } from '@kiln/compiler';
import { evaluateWithState } from './reference/executor.js';
import { hasRefKernel } from './reference/registry.js';

const HANDLED_BY_EXECUTOR = new Set(['placeholder', 'variable']);

export class ReferenceBackend implements Backend {
  readonly name = 'reference';

  prepare(plan: ExecutionPlan, opts: PrepareOptions): Executable {
    const missing = [...new Set(plan.nodes.filter((n) => !HANDLED_BY_EXECUTOR.has(n.op) && !hasRefKernel(n.op)).map((n) => `${n.op} ('${n.name}')`))];
    if (missing.length) {
      throw new KilnError('UNSUPPORTED', `backend 'reference': no reference kernel for ${missing.join(', ')}`);
    }
    return {
      run: (inputs: ExecInputs): ExecOutputs => {
        const feeds: Record<string, Tensor> = {};
        for (const [node, value] of inputs.feeds) feeds[node.name] = value;
        return evaluateWithState(plan.fetches, {
          feeds,
          variables: new Map(inputs.variables),
          seed: inputs.seed,
          checkNumerics: opts.checkNumerics,
        });
      },
    };
  }
}

export function referenceBackend(): Backend {
  return new ReferenceBackend();
}
