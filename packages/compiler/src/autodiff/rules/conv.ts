/** Gradient rules: conv family. */
import { registerGradient, registerNonDifferentiable } from '../registry.js';
void registerGradient;
void registerNonDifferentiable;
