/** Shared orchestration of compiled backends: the device interface, the program runner, the Backend over a device. */
export type { Device, DeviceProgram, OpKernelSpec, RunContext } from './device.js';
export { ProgramRunner, type RunInputs, type RunOutputs, type RunnerOptions } from './program-runner.js';
export { DEFAULT_PROGRAM_CACHE_SIZE, ProgramCache } from './program-cache.js';
export { DeviceExecutable, type DeviceBackendOptions, deviceBackend } from './device-backend.js';
export { firstNonFinite } from './numerics.js';
export { type RoutineProvider, checkRoutines, routineGap, routinesOf } from '../routines/check-routines.js';
export { ROUTINES, ROUTINE_NAMES, type RoutineCategory, type RoutineInfo } from '../routines/routines.js';
