// Assembles packages/runtime-cpu/src/compiled/wasm/gemm.wat with wabt (build time only) and
// writes gemm-wasm.generated.ts, which holds the module bytes as base64 for synchronous
// instantiation at run time. Run: node scripts/build-wasm.mjs   (gemm-wasm.test checks drift)
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import wabtInit from 'wabt';

const dir = join(dirname(fileURLToPath(import.meta.url)), '../packages/runtime-cpu/src/compiled/wasm');

/** The exact wabt call the drift test repeats: WAT text -> module bytes. */
export async function assembleGemmWat(text) {
  const wabt = await wabtInit();
  const mod = wabt.parseWat('gemm.wat', text, { simd: true, threads: true, bulk_memory: true });
  try {
    const bytes = mod.toBinary({}).buffer;
    new WebAssembly.Module(bytes); // V8 validates (wabt's validate() ignores the feature flags)
    return bytes;
  } finally {
    mod.destroy();
  }
}

/** The generated TypeScript source for the given module bytes. */
export function generatedSource(bytes) {
  const b64 = Buffer.from(bytes).toString('base64');
  const lines = [];
  for (let i = 0; i < b64.length; i += 96) lines.push(`  '${b64.slice(i, i + 96)}',`);
  return [
    '// GENERATED FILE, do not edit: the assembled bytes of gemm.wat (wabt 1.0.39, simd + threads + bulk memory).',
    '// Regenerate with `node scripts/build-wasm.mjs` after changing gemm.wat.',
    `export const GEMM_WASM_BASE64 = [\n${lines.join('\n')}\n].join('');`,
    '',
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const bytes = await assembleGemmWat(readFileSync(join(dir, 'gemm.wat'), 'utf8'));
  writeFileSync(join(dir, 'gemm-wasm.generated.ts'), generatedSource(bytes));
  console.log(`gemm-wasm.generated.ts: ${bytes.length} bytes of wasm`);
}
