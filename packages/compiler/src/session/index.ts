/** Session and the Backend interface it runs on (a runtime implements Backend). */
export type { Backend, Executable, ExecInputs, ExecOutputs, PrepareOptions } from './backend.js';
export { type ExecutionPlan, makePlan } from './plan.js';
export { COUNTER_KEY, type CompiledOptions, SEED_KEY, Session, type SessionOptions, runSeed } from './session.js';
export { readModelFile, writeFileAtomic } from './model-file.js';
export type { Fetch, FetchValue, FetchValues } from './signature.js';
