/**
 * Gradient rules: state family. Updating a variable is an effect, not a function of its
 * inputs that a loss could depend on, so no gradient flows through assign* (as in
 * TensorFlow); targets (noOp / group) carry no data at all.
 */
import { registerNonDifferentiable } from '../registry.js';

const ASSIGN_REASON = 'a variable update is an effect, not a differentiable function (differentiate the value assigned instead)';
registerNonDifferentiable('assign', ASSIGN_REASON);
registerNonDifferentiable('assignAdd', ASSIGN_REASON);
registerNonDifferentiable('assignSub', ASSIGN_REASON);
registerNonDifferentiable('noOp', 'a target (noOp / group) carries no data');
