/** Registers every ONNX operator converter family. */
import './math.js';
import './logic.js';
import './reduce.js';
import './shape.js';
import './movement.js';
import './nn.js';
import './conv.js';
import './pool.js';
import './index-maps.js';
import './compositions.js';
