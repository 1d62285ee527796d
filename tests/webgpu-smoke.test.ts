/**
 * WebGPU smoke test: acquires an adapter through the `webgpu` package (Dawn; lavapipe on CI)
 * and runs a trivial compute shader. With KILN_REQUIRE_WEBGPU=1 a missing adapter fails the
 * run; without it, the test checks that the failure is a clear KilnError('UNSUPPORTED').
 */
import { describe, expect, it } from '@jest/globals';
import { KilnError } from '@kiln/graph';
import { type GpuContext, acquireGpu } from '@kiln/runtime-webgpu';

const required = process.env.KILN_REQUIRE_WEBGPU === '1';

async function tryAcquire(): Promise<GpuContext | KilnError> {
  try {
    return await acquireGpu();
  } catch (e) {
    if (e instanceof KilnError) return e;
    throw e;
  }
}

describe('WebGPU smoke', () => {
  it('runs a compute shader (y = 2x + 1) on the adapter', async () => {
    const got = await tryAcquire();
    if (got instanceof KilnError) {
      expect(required).toBe(false);
      expect(got.code).toBe('UNSUPPORTED');
      console.warn(`WebGPU adapter unavailable: ${got.message}`);
      return;
    }
    const { device } = got;
    const n = 1000;
    const input = new Float32Array(n).map((_, i) => i - 500);
    const src = device.createBuffer({ size: n * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
    const dst = device.createBuffer({ size: n * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
    const read = device.createBuffer({ size: n * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    device.queue.writeBuffer(src, 0, input);
    const module = device.createShaderModule({
      code: `
        @group(0) @binding(0) var<storage, read> x: array<f32>;
        @group(0) @binding(1) var<storage, read_write> y: array<f32>;
        @compute @workgroup_size(64)
        fn main(@builtin(global_invocation_id) id: vec3<u32>) {
          if (id.x < arrayLength(&x)) { y[id.x] = 2.0 * x[id.x] + 1.0; }
        }`,
    });
    const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
    const bind = device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: src } },
        { binding: 1, resource: { buffer: dst } },
      ],
    });
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bind);
    pass.dispatchWorkgroups(Math.ceil(n / 64));
    pass.end();
    enc.copyBufferToBuffer(dst, 0, read, 0, n * 4);
    device.queue.submit([enc.finish()]);
    await read.mapAsync(GPUMapMode.READ);
    const out = new Float32Array(read.getMappedRange().slice(0));
    read.unmap();
    for (let i = 0; i < n; i++) expect(out[i]).toBe(2 * input[i]! + 1);
    device.destroy();
    expect(got.gpu).toBeDefined();
  });
});
