/**
 * WebGPU device acquisition. In a browser, navigator.gpu; in Node, Dawn through the `webgpu`
 * package. The GPU object that Dawn hands out must stay referenced while any adapter or device
 * from it lives (else Dawn aborts or hangs at random), so it is kept inside GpuContext.
 */
import { KilnError } from '@kiln/graph';

export interface GpuContext {
  /** Held only to keep Dawn's GPU object alive as long as the device. */
  readonly gpu: GPU;
  readonly adapter: GPUAdapter;
  readonly device: GPUDevice;
  readonly info: string;
}

async function nodeGpu(): Promise<GPU | undefined> {
  const mod = (await import('webgpu')) as { create: (flags: string[]) => GPU; globals: Record<string, unknown> };
  // The WebGPU enums (GPUBufferUsage, GPUShaderStage, ...) live in `globals`.
  for (const [k, v] of Object.entries(mod.globals)) {
    if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  }
  return mod.create([]);
}

/** Finds a WebGPU adapter and device; KilnError('UNSUPPORTED') when none is available. */
export async function acquireGpu(): Promise<GpuContext> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  let gpu: GPU | undefined = nav?.gpu;
  if (!gpu) {
    try {
      gpu = await nodeGpu();
    } catch (e) {
      throw new KilnError('UNSUPPORTED', `WebGPU: the 'webgpu' package could not be loaded (${(e as Error).message})`);
    }
  }
  if (!gpu) throw new KilnError('UNSUPPORTED', 'WebGPU: no navigator.gpu and no Dawn binding');
  const adapter = await gpu.requestAdapter();
  if (!adapter) {
    throw new KilnError(
      'UNSUPPORTED',
      'WebGPU: no adapter found (on a machine without a GPU install Mesa lavapipe: mesa-vulkan-drivers from bookworm-backports, see .ci/install-webgpu.sh)',
    );
  }
  const l = adapter.limits;
  const device = await adapter.requestDevice({
    requiredLimits: { maxStorageBufferBindingSize: l.maxStorageBufferBindingSize, maxBufferSize: l.maxBufferSize },
  });
  const i = adapter.info;
  const info = [i?.vendor, i?.architecture, i?.device, i?.description].filter((s) => s).join(' ') || 'unknown adapter';
  return { gpu, adapter, device, info };
}
