/**
 * Compute pipelines of one GPUDevice, cached by WGSL text and created asynchronously
 * (createComputePipelineAsync, all of a Program's in parallel). Every kernel uses one explicit
 * layout (the storage buffer, and the uniform parameter block at a dynamic offset), so a
 * Program needs a single bind group and generated kernels share pipelines across Programs.
 * A WGSL compile error carries the compiler's messages with their line numbers.
 */
import { PARAM_SLOTS } from './codegen/wgsl-common.js';

/** A failed pipeline: the compiler's messages ("line N: ...", with the line's text). */
export class PipelineError extends Error {
  constructor(readonly details: string) {
    super(details);
  }
}

export class PipelineCache {
  readonly bindGroupLayout: GPUBindGroupLayout;
  private readonly layout: GPUPipelineLayout;
  private readonly cache = new Map<string, Promise<GPUComputePipeline>>();

  constructor(private readonly device: GPUDevice) {
    this.bindGroupLayout = device.createBindGroupLayout({
      entries: [
        { binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'storage' } },
        { binding: 1, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform', hasDynamicOffset: true, minBindingSize: PARAM_SLOTS * 4 } },
      ],
    });
    this.layout = device.createPipelineLayout({ bindGroupLayouts: [this.bindGroupLayout] });
  }

  get size(): number {
    return this.cache.size;
  }

  /** The pipeline of `wgsl` (compiled once per device). */
  get(wgsl: string): Promise<GPUComputePipeline> {
    let p = this.cache.get(wgsl);
    if (!p) {
      p = this.create(wgsl);
      this.cache.set(wgsl, p);
      // A failed compile is not cached (the error reaches every Program that asked meanwhile).
      p.catch(() => this.cache.delete(wgsl));
    }
    return p;
  }

  private async create(wgsl: string): Promise<GPUComputePipeline> {
    const module = this.device.createShaderModule({ code: wgsl });
    try {
      return await this.device.createComputePipelineAsync({ layout: this.layout, compute: { module, entryPoint: 'main' } });
    } catch (e) {
      const info = await module.getCompilationInfo();
      const lines = wgsl.split('\n');
      const msgs = info.messages.filter((m) => m.type === 'error').map((m) => `line ${m.lineNum}: ${m.message}\n    ${(lines[m.lineNum - 1] ?? '').trim()}`);
      throw new PipelineError(msgs.length ? msgs.join('\n  ') : (e as Error).message);
    }
  }
}
