/** Merge layers over several inputs: Concatenate (along an axis) and Add (elementwise sum). */
import { type SymbolicTensor, add, concat } from '@kiln/graph';
import { type LayerShape, fmtLayerShape } from '../engine/keras-tensor.js';
import { Layer, type LayerArgs, type LayerConfig } from '../engine/layer.js';

abstract class Merge extends Layer {
  protected checkInputCount(n: number): void {
    if (n < 2) this.fail('INVALID_ARGUMENT', `expects a list of at least 2 inputs, got ${n}`);
  }
}

export class Concatenate extends Merge {
  readonly className = 'Concatenate';
  readonly axis: number;
  constructor(args: LayerArgs & { axis?: number } = {}) {
    super(args, 'Concatenate');
    this.axis = args.axis ?? -1;
  }
  computeOutputShape(shapes: LayerShape[]): LayerShape {
    const r = shapes[0]!.length;
    const a = this.axis < 0 ? r + this.axis : this.axis;
    if (a < 1 || a >= r) this.fail('INVALID_ARGUMENT', `axis ${this.axis} is out of range for inputs of rank ${r} (the batch axis cannot be concatenated)`);
    let total: number | null = 0;
    for (const s of shapes) {
      const same = s.length === r && s.every((d, i) => i === a || d === null || shapes[0]![i] === null || d === shapes[0]![i]);
      if (!same) this.fail('SHAPE_MISMATCH', `inputs must agree on every dim but axis ${this.axis}, got ${shapes.map(fmtLayerShape).join(', ')}`);
      total = total === null || s[a] === null ? null : total + s[a]!;
    }
    const out = [...shapes[0]!];
    out[a] = total;
    return out;
  }
  call(inputs: SymbolicTensor[]): SymbolicTensor {
    return concat(inputs, this.axis);
  }
  protected layerConfig(): LayerConfig {
    return { axis: this.axis };
  }
}

export class Add extends Merge {
  readonly className = 'Add';
  constructor(args: LayerArgs = {}) {
    super(args, 'Add');
  }
  computeOutputShape(shapes: LayerShape[]): LayerShape {
    const s0 = shapes[0]!;
    for (const s of shapes) {
      if (s.length !== s0.length || s.some((d, i) => d !== null && s0[i] !== null && d !== s0[i])) {
        this.fail('SHAPE_MISMATCH', `inputs must have equal shapes, got ${shapes.map(fmtLayerShape).join(', ')}`);
      }
    }
    return [...s0];
  }
  call(inputs: SymbolicTensor[]): SymbolicTensor {
    return inputs.slice(1).reduce((acc, x) => add(acc, x), inputs[0]!);
  }
  protected layerConfig(): LayerConfig {
    return {};
  }
}
