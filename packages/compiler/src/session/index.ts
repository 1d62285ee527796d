/** Session and the Backend interface it runs on (a runtime implements Backend). */
export type { Backend, Executable, ExecInputs, ExecOutputs, PrepareOptions } from './backend.js';
export { type ExecutionPlan, makePlan } from './plan.js';
export { Session, type SessionOptions, runSeed } from './session.js';
export type { Fetch, FetchValue, FetchValues } from './signature.js';
