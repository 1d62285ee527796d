/**
 * The runtime's copy kernel (not an op): copies up to COPY_REGIONS regions of the storage
 * buffer onto others in one dispatch (WebGPU forbids copyBufferToBuffer within one buffer).
 * It commits variables: each written variable's staging slot onto its committed slot. The
 * regions are uniform parameters, so every Program shares this one pipeline.
 */
import { type GeneratedKernel, HEADER, PARAM_SLOTS, WORKGROUP, grid } from './wgsl-common.js';

/** Regions per dispatch: a count and (source, destination, length) triples in one uniform block. */
export const COPY_REGIONS = Math.floor((PARAM_SLOTS - 2) / 3);

const P = (k: string) => `bitcast<i32>(u[(${k}) >> 2][(${k}) & 3])`;

const COPY_WGSL = `${HEADER}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = i32(gid.x + gid.y * nwg.x * ${WORKGROUP}u);
  let regions = ${P('0')};
  var start = 0;
  for (var r = 0; r < regions; r++) {
    let k = 1 + r * 3;
    let n = ${P('k + 2')};
    if (i < start + n) {
      mem[${P('k + 1')} + i - start] = mem[${P('k')} + i - start];
      return;
    }
    start += n;
  }
}
`;

/** Copy dispatches for `regions` (element offsets and counts), COPY_REGIONS per dispatch. */
export function copyKernels(regions: readonly { from: number; to: number; count: number }[]): GeneratedKernel[] {
  const out: GeneratedKernel[] = [];
  for (let c = 0; c < regions.length; c += COPY_REGIONS) {
    const chunk = regions.slice(c, c + COPY_REGIONS);
    const params = [chunk.length, ...chunk.flatMap((r) => [r.from, r.to, r.count])];
    const total = chunk.reduce((s, r) => s + r.count, 0);
    out.push({ wgsl: COPY_WGSL, params, workgroups: grid(Math.ceil(total / WORKGROUP)) });
  }
  return out;
}
