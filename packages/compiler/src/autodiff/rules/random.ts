/** Gradient rules: random family. */
import { registerGradient, registerNonDifferentiable } from '../registry.js';
void registerGradient;
void registerNonDifferentiable;
