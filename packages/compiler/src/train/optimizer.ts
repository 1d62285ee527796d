/**
 * Optimizer base: optimizers are graph builders. minimize(loss) differentiates the loss
 * symbolically, appends the update equations as ordinary ops ending in assign ops, and returns
 * one target (a group) that applies exactly one update each time a session fetches it.
 *
 * Optimizer state lives in graph variables (slots such as Adam's moments, plus per-graph
 * values such as Adam's beta powers), created non-trainable under the optimizer's name scope
 * ('Adam/w/m', 'Adam/beta1_power'), so it serializes and restores with the graph.
 *
 * Reads of a variable inside one run see its value from before the run (the executor stages
 * writes), so every update is computed from the old state, as TensorFlow's apply ops do.
 */
import { type Graph, KilnError, type Node, type SymbolicTensor, type TargetTensor, type Tensor, fillTensor, group, isSymbolic } from '@kiln/graph';
import { gradientsOrNull } from '../autodiff/gradients.js';

export interface GradAndVar {
  /** d loss / d variable (same shape as the variable). */
  grad: SymbolicTensor;
  /** The output of a 'variable' node. */
  variable: SymbolicTensor;
}

/** A learning rate or other hyperparameter: a number (becomes a constant) or a float32 scalar tensor. */
export type Hyper = number | SymbolicTensor;

/** Trainable variables that `loss` depends on through data edges, in graph order. */
export function trainableVariablesOf(loss: SymbolicTensor): SymbolicTensor[] {
  const seen = new Set<Node>();
  const stack = [loss.node];
  while (stack.length) {
    const n = stack.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    for (const x of n.inputs) stack.push(x.node);
  }
  return [...seen]
    .filter((n) => n.op === 'variable' && n.attrs.trainable === true && n.outputs[0]!.dtype === 'float32')
    .sort((a, b) => a.id - b.id)
    .map((n) => n.output);
}

export abstract class Optimizer {
  /** Name scope of slots and update ops ('SGD', 'Momentum', 'Adam', 'RMSProp', 'Adagrad'). */
  abstract readonly name: string;
  private readonly slots = new Map<Node, Map<string, SymbolicTensor>>();
  private readonly perGraph = new Map<Graph, Map<string, SymbolicTensor>>();

  /**
   * Gradients of `loss` with respect to `varList` (default: every trainable float32 variable
   * the loss depends on). Variables the loss does not reach are left out, as in TensorFlow.
   */
  computeGradients(loss: SymbolicTensor, varList?: SymbolicTensor[]): GradAndVar[] {
    if (!isSymbolic(loss)) throw new KilnError('INVALID_ARGUMENT', `${this.name}.computeGradients: loss must be a SymbolicTensor`);
    if (loss.dtype !== 'float32') {
      throw new KilnError('DTYPE_MISMATCH', `${this.name}.computeGradients: loss '${loss.name}' must be float32, got ${loss.dtype}`);
    }
    const vars = varList ?? trainableVariablesOf(loss);
    vars.forEach((v, i) => this.checkVariable(v, `varList[${i}]`, loss.graph));
    if (vars.length === 0) {
      throw new KilnError('INVALID_ARGUMENT', `${this.name}.minimize: loss '${loss.name}' depends on no trainable float32 variable`);
    }
    const grads = gradientsOrNull(loss, vars);
    const out: GradAndVar[] = [];
    grads.forEach((grad, i) => {
      if (grad) out.push({ grad, variable: vars[i]! });
    });
    if (out.length === 0) {
      throw new KilnError(
        'INVALID_ARGUMENT',
        `${this.name}.minimize: no gradient flows from loss '${loss.name}' to any of ${vars.map((v) => `'${v.name}'`).join(', ')}`,
      );
    }
    return out;
  }

  /** Appends one update of every variable from its gradient; returns the target applying it. */
  applyGradients(gradsAndVars: readonly GradAndVar[]): TargetTensor {
    if (gradsAndVars.length === 0) throw new KilnError('INVALID_ARGUMENT', `${this.name}.applyGradients: no gradients given`);
    const g = gradsAndVars[0]!.variable.graph;
    gradsAndVars.forEach(({ grad, variable }, i) => {
      this.checkVariable(variable, `gradsAndVars[${i}].variable`, g);
      if (!isSymbolic(grad) || grad.graph !== g || grad.dtype !== 'float32') {
        throw new KilnError(
          'INVALID_ARGUMENT',
          `${this.name}.applyGradients: gradsAndVars[${i}].grad must be a float32 SymbolicTensor of the variable's graph`,
        );
      }
    });
    return g.nameScope(this.name, () => {
      // Create every slot first so that slot variables precede the update ops in the graph.
      for (const { variable } of gradsAndVars) this.createSlots(variable);
      this.prepare(g);
      const updates: SymbolicTensor[] = [];
      for (const { grad, variable } of gradsAndVars) updates.push(...this.applyDense(grad, variable));
      const finish = this.finish(g, updates);
      return group(...updates, ...finish);
    });
  }

  /** computeGradients + applyGradients: a target that applies one step to minimize `loss`. */
  minimize(loss: SymbolicTensor, varList?: SymbolicTensor[]): TargetTensor {
    return this.applyGradients(this.computeGradients(loss, varList));
  }

  /** The slot variable `slotName` of `variable` (e.g. getSlot(w, 'm') for Adam). */
  getSlot(variable: SymbolicTensor, slotName: string): SymbolicTensor | undefined {
    return this.slots.get(variable.node)?.get(slotName);
  }

  /** Every variable this optimizer created in `g` (slots and per-graph state), in creation order. */
  variables(g: Graph): SymbolicTensor[] {
    const own = new Set<SymbolicTensor>([...(this.perGraph.get(g)?.values() ?? [])]);
    for (const [node, m] of this.slots) if (node.graph === g) for (const s of m.values()) own.add(s);
    return [...own].sort((a, b) => a.node.id - b.node.id);
  }

  // ---- for subclasses ------------------------------------------------------------------------

  /** Creates the per-variable slots (called inside the optimizer's scope). */
  protected createSlots(_variable: SymbolicTensor): void {}

  /** Per-run setup shared by all variables (e.g. Adam's bias-corrected rate). */
  protected prepare(_g: Graph): void {}

  /** The ops updating `variable` (and its slots) from `grad`. */
  protected abstract applyDense(grad: SymbolicTensor, variable: SymbolicTensor): SymbolicTensor[];

  /** Ops to run after all updates (e.g. Adam's beta-power decay); may depend on `updates`. */
  protected finish(_g: Graph, _updates: readonly SymbolicTensor[]): SymbolicTensor[] {
    return [];
  }

  /** Returns the slot `slotName` of `variable`, creating it filled with `init` on first use. */
  protected slot(variable: SymbolicTensor, slotName: string, init = 0): SymbolicTensor {
    let m = this.slots.get(variable.node);
    if (!m) {
      m = new Map();
      this.slots.set(variable.node, m);
    }
    let s = m.get(slotName);
    if (!s) {
      const value: Tensor = fillTensor([...(variable.shape as number[])], init, 'float32');
      s = variable.graph.variable(value, `${variable.node.name}/${slotName}`, { trainable: false });
      m.set(slotName, s);
    }
    return s;
  }

  /** A scalar variable shared by all variables of `g` (e.g. 'beta1_power'), created once. */
  protected graphState(g: Graph, stateName: string, init: number): SymbolicTensor {
    let m = this.perGraph.get(g);
    if (!m) {
      m = new Map();
      this.perGraph.set(g, m);
    }
    let s = m.get(stateName);
    if (!s) {
      s = g.variable(fillTensor([], init, 'float32'), stateName, { trainable: false });
      m.set(stateName, s);
    }
    return s;
  }

  /** A hyperparameter as a float32 scalar tensor of `g` (numbers become named constants). */
  protected hyper(g: Graph, value: Hyper, hyperName: string): SymbolicTensor {
    if (isSymbolic(value)) {
      if (value.graph !== g || value.dtype !== 'float32' || value.shape.length !== 0) {
        throw new KilnError('INVALID_ARGUMENT', `${this.name}: ${hyperName} must be a number or a float32 scalar of the same graph, got '${value.name}'`);
      }
      return value;
    }
    return g.constant(value, 'float32', hyperName);
  }

  private checkVariable(v: SymbolicTensor, where: string, g: Graph): void {
    if (!isSymbolic(v) || v.node.op !== 'variable') {
      const got = isSymbolic(v) ? `'${v.name}' (${v.node.op})` : String(v);
      throw new KilnError('INVALID_ARGUMENT', `${this.name}: ${where} must be a variable (from g.variable()), got ${got}`);
    }
    if (v.graph !== g) throw new KilnError('INVALID_ARGUMENT', `${this.name}: ${where} '${v.name}' belongs to another graph`);
    if (v.dtype !== 'float32') throw new KilnError('DTYPE_MISMATCH', `${this.name}: ${where} '${v.name}' must be float32, got ${v.dtype}`);
  }
}

/** How a hyperparameter that is not a number reads in an error. */
function describeHyper(v: unknown): string {
  if (typeof v === 'string') return `the string ${JSON.stringify(v)}`;
  if (typeof v === 'bigint') return `the bigint ${v}n`;
  if (v === null || v === undefined || typeof v !== 'object') return String(v);
  return Array.isArray(v) ? 'an array' : 'an object';
}

/**
 * Checks a hyperparameter with a KilnError naming the optimizer: a finite number (finite as
 * float32 too, where it is computed) in range, or a SymbolicTensor (checked when used).
 */
export function checkHyper(opt: string, hyperName: string, v: Hyper, lo: number, hi = Infinity, loInclusive = false): void {
  if (isSymbolic(v)) return;
  if (typeof v !== 'number') {
    throw new KilnError('INVALID_ARGUMENT', `train.${opt}: ${hyperName} must be a finite number (or a float32 scalar SymbolicTensor), got ${describeHyper(v)}`);
  }
  const okLo = loInclusive ? v >= lo : v > lo;
  if (!Number.isFinite(Math.fround(v)) || !okLo || v > hi) {
    const range = `${loInclusive ? '>=' : '>'} ${lo}${hi !== Infinity ? ` and <= ${hi}` : ''}`;
    throw new KilnError('INVALID_ARGUMENT', `train.${opt}: ${hyperName} must be ${range}, got ${v}`);
  }
}
