/**
 * The WebGPU device and backend: the compiler's Device over a GPUDevice (programs compiled
 * for the WebGPU memory layout, loaded as WebGpuProgram) and the Session Backend over it.
 * The routines (op kernels) it implements are listed in WEBGPU_ROUTINES; compiling a program
 * that needs another fails at compile time with UNSUPPORTED naming the routine.
 */
import { type Backend, type ConstantEvaluator, type Device, type DeviceBackendOptions, deviceBackend, webgpuMemoryLayout } from '@kiln/compiler';
import { type GpuContext, acquireGpu } from './device.js';
import { type GpuShared, WebGpuProgram } from './gpu-program.js';
import { PipelineCache } from './pipelines.js';
import { WEBGPU_ROUTINES } from './routines.js';

export { WEBGPU_ROUTINES };

export interface WebGpuDeviceOptions {
  /** Constant folding at compile time (kiln passes the reference kernels). */
  constantEvaluator?: ConstantEvaluator;
}

export interface WebGpuDevice extends Device {
  readonly context: GpuContext;
  /** Distinct pipelines compiled on this device so far. */
  pipelineCount(): number;
}

/** A Device running compiled Programs on `ctx`'s GPUDevice (which it keeps, with Dawn's GPU object, alive). */
export function webgpuDevice(ctx: GpuContext, opts: WebGpuDeviceOptions = {}): WebGpuDevice {
  const shared: GpuShared = { context: ctx, device: ctx.device, pipelines: new PipelineCache(ctx.device) };
  void ctx.device.lost.then((info) => {
    shared.lost = `${info.reason}: ${info.message}`;
  });
  return {
    name: 'webgpu',
    context: ctx,
    routines: WEBGPU_ROUTINES,
    declinesRoutine: (k, program) =>
      k.op === 'matMul' && k.inputs.some((b) => program.buffers[b]!.dtype !== 'float32')
        ? 'integer matMul (the contraction generator accumulates in f32)'
        : undefined,
    memoryLayout: webgpuMemoryLayout(ctx.device.limits.minStorageBufferOffsetAlignment),
    constantEvaluator: opts.constantEvaluator,
    load: (program) => new WebGpuProgram(program, shared),
    pipelineCount: () => shared.pipelines.size,
    dispose: () => ctx.device.destroy(),
  };
}

/** A Session Backend on WebGPU (acquires the adapter; UNSUPPORTED when there is none). */
export async function webgpuBackend(opts: WebGpuDeviceOptions & DeviceBackendOptions = {}): Promise<Backend> {
  const ctx = await acquireGpu();
  return deviceBackend(webgpuDevice(ctx, opts), { poisonFreed: opts.poisonFreed, programCacheSize: opts.programCacheSize });
}
