// onnxruntime-node behind a line protocol on stdin/stdout, in a plain Node process: Jest's VM
// realm rejects the typed arrays that the native binding creates, so tests talk to ONNX
// Runtime through this child. Request: {"id", "model": base64, "feeds": {name: {dtype, shape,
// data: base64}}}; reply: {"id", "outputs": [{dtype, shape, data: base64}]} or {"id", "error"}.
import { createInterface } from 'node:readline';
import ort from 'onnxruntime-node';

const ARRAYS = { float32: Float32Array, int32: Int32Array, bool: Uint8Array, int64: BigInt64Array };

function fromB64(dtype, b64) {
  const bytes = Buffer.from(b64, 'base64');
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return new ARRAYS[dtype](copy.buffer, 0, bytes.length / ARRAYS[dtype].BYTES_PER_ELEMENT);
}

function toB64(data) {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64');
}

async function handle(req) {
  const session = await ort.InferenceSession.create(Buffer.from(req.model, 'base64'), { intraOpNumThreads: 1, interOpNumThreads: 1 });
  try {
    const feeds = {};
    for (const [name, f] of Object.entries(req.feeds)) feeds[name] = new ort.Tensor(f.dtype, fromB64(f.dtype, f.data), f.shape);
    const out = await session.run(feeds);
    return session.outputNames.map((name) => {
      const t = out[name];
      const data = t.type === 'bool' ? Uint8Array.from(t.data, (v) => (v ? 1 : 0)) : t.data;
      return { name, dtype: t.type, shape: [...t.dims], data: toB64(data) };
    });
  } finally {
    await session.release();
  }
}

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const req = JSON.parse(line);
  handle(req).then(
    (outputs) => process.stdout.write(JSON.stringify({ id: req.id, outputs }) + '\n'),
    (e) => process.stdout.write(JSON.stringify({ id: req.id, error: String(e && e.message ? e.message : e) }) + '\n'),
  );
});
