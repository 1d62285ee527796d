/** Registers every gradient rule family. */
import './elementwise.js';
import './compare.js';
import './reduce.js';
import './movement.js';
import './linalg.js';
import './conv.js';
import './pool.js';
import './normalization.js';
import './random.js';
import './state.js';
import './source.js';
