/** Gradient rules: movement family. */
import { registerGradient, registerNonDifferentiable } from '../registry.js';
void registerGradient;
void registerNonDifferentiable;
