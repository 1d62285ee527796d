/**
 * Runs ONNX models in onnxruntime-node from Jest: one child Node process (ort-server.mjs)
 * serves every request, because Jest's VM realm rejects the typed arrays that ONNX Runtime's
 * native binding returns. Results come back as Kiln Tensors in graph-output order.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Tensor } from '@kiln/graph';

interface Reply {
  id: number;
  outputs?: { name: string; dtype: string; shape: number[]; data: string }[];
  error?: string;
}

function toB64(t: Tensor): string {
  return Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).toString('base64');
}

function fromReply(o: NonNullable<Reply['outputs']>[number]): Tensor {
  const bytes = Uint8Array.from(Buffer.from(o.data, 'base64'));
  if (o.dtype === 'float32') return new Tensor('float32', o.shape, new Float32Array(bytes.buffer));
  if (o.dtype === 'int32') return new Tensor('int32', o.shape, new Int32Array(bytes.buffer));
  if (o.dtype === 'bool') return new Tensor('bool', o.shape, bytes);
  throw new Error(`onnxruntime returned output '${o.name}' of type ${o.dtype}`);
}

export class OnnxRuntime {
  private readonly child: ChildProcess;
  private readonly pending = new Map<number, (r: Reply) => void>();
  private next = 0;

  constructor() {
    const script = fileURLToPath(new URL('./ort-server.mjs', import.meta.url));
    this.child = spawn(process.execPath, [script], { stdio: ['pipe', 'pipe', 'inherit'] });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      const r = JSON.parse(line) as Reply;
      this.pending.get(r.id)?.(r);
      this.pending.delete(r.id);
    });
  }

  /** Runs `model` with `feeds` keyed by ONNX input name (extra feeds are dropped by name). */
  run(model: Uint8Array, feeds: Record<string, Tensor>, inputNames: readonly string[]): Promise<Tensor[]> {
    const id = this.next++;
    const req = {
      id,
      model: Buffer.from(model).toString('base64'),
      feeds: Object.fromEntries(inputNames.map((n) => [n, { dtype: feeds[n]!.dtype, shape: feeds[n]!.shape, data: toB64(feeds[n]!) }])),
    };
    return new Promise((resolve, reject) => {
      this.pending.set(id, (r) => (r.error !== undefined ? reject(new Error(`onnxruntime: ${r.error}`)) : resolve(r.outputs!.map(fromReply))));
      this.child.stdin!.write(`${JSON.stringify(req)}\n`);
    });
  }

  close(): void {
    this.child.stdin!.end();
  }
}
