/**
 * model.save(path) / loadModel(path): one protobuf file, a ModelProto (proto/kiln.proto) whose
 * graph is the model's graph with the live variable values (weights, batch-norm statistics,
 * optimizer slots), and whose metadata holds the Keras architecture ('keras.model'), the
 * training config ('keras.training': loss, metrics, optimizer) and the run state
 * ('keras.state': seed and run counter of the random streams, backend), all as JSON.
 *
 * Saving writes a temporary file next to the target and renames it over the target, so a
 * crash never leaves a half-written file in place of a good one. Loading rebuilds the model
 * from its architecture, recompiles it, checks that the rebuilt graph has exactly the file's
 * variables (names, dtypes, shapes), and only then sets them: a damaged file is
 * KilnError('CORRUPT_MODEL'), never a half-loaded model.
 */
import { KilnError, type Node, type Tensor, deserializeModel, fmtShape, serializeGraph } from '@kiln/graph';
import { readModelFile, writeFileAtomic } from '@kiln/compiler';
import type { CompileConfig } from '../engine/model-graph.js';
import type { LayersModel } from '../engine/model.js';
import type { BackendName } from '../engine/backend.js';
import { type ModelConfig, modelFromConfig, modelToConfig } from './model-config.js';

const PRODUCER = 'kiln keras-api';

interface RunState {
  seed: number;
  runCounter: number;
  backend: BackendName;
}

/** The model file's bytes. */
export function modelToBytes(m: LayersModel): Uint8Array {
  const session = m.session;
  const g = m.graph;
  const values = new Map<Node, Tensor>();
  for (const [name, t] of session.variableValues()) values.set(g.nodeByName(name)!, t);
  const cfg = m.compileSettings;
  const state: RunState = { seed: m.seed, runCounter: session.runCounter, backend: m.backend };
  return serializeGraph(g, {
    variables: values,
    producer: PRODUCER,
    metadata: {
      'keras.model': JSON.stringify(modelToConfig(m)),
      'keras.training': JSON.stringify(cfg ? { loss: cfg.lossId, metrics: cfg.metrics.map((x) => x.name), optimizer: cfg.optimizer } : null),
      'keras.state': JSON.stringify(state),
    },
  });
}

export async function saveModel(m: LayersModel, path: string): Promise<void> {
  if (typeof path !== 'string' || path === '') throw new KilnError('INVALID_ARGUMENT', `save: path must be a non-empty string, got ${JSON.stringify(path)}`);
  await writeFileAtomic(path, modelToBytes(m), 'save', { makeParents: true });
}

function corrupt(why: string): never {
  throw new KilnError('CORRUPT_MODEL', `loadModel: ${why}`);
}

function parseJson<T>(meta: Record<string, string>, key: string): T {
  const text = meta[key];
  if (text === undefined) corrupt(`the file has no '${key}' entry (not a Keras model saved by model.save)`);
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    return corrupt(`'${key}' is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Rebuilds a model from the bytes of a model file. */
export async function modelFromBytes(bytes: Uint8Array): Promise<LayersModel> {
  const loaded = deserializeModel(bytes);
  const arch = parseJson<ModelConfig>(loaded.metadata, 'keras.model');
  const training = parseJson<{ loss: string; metrics: string[]; optimizer: CompileConfig['optimizer'] } | null>(loaded.metadata, 'keras.training');
  const state = parseJson<RunState>(loaded.metadata, 'keras.state');
  let m: LayersModel;
  try {
    m = modelFromConfig(arch);
    if (training) m.compile({ loss: training.loss, metrics: training.metrics, optimizer: training.optimizer, backend: state.backend, seed: state.seed });
  } catch (e) {
    if (e instanceof KilnError && (e.code === 'CORRUPT_MODEL' || e.code === 'UNSUPPORTED')) throw e;
    return corrupt(`the saved architecture does not rebuild: ${e instanceof Error ? e.message : String(e)}`);
  }
  const session = m.session;
  const fileVars = new Map(loaded.graph.variables().map((n) => [n.name, n] as const));
  const modelVars = m.graph.variables();
  const updates: [string, Tensor][] = [];
  for (const v of modelVars) {
    const f = fileVars.get(v.name) ?? corrupt(`the file has no value for variable '${v.name}'`);
    const a = v.output;
    const b = f.output;
    if (a.dtype !== b.dtype || a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
      corrupt(`variable '${v.name}' is ${b.dtype}${fmtShape(b.shape)} in the file but ${a.dtype}${fmtShape(a.shape)} in the model`);
    }
    updates.push([v.name, f.attrs.value as Tensor]);
    fileVars.delete(v.name);
  }
  if (fileVars.size > 0) corrupt(`the file has variables the model does not: ${[...fileVars.keys()].slice(0, 5).join(', ')}`);
  session.setVariables(updates);
  if (!Number.isSafeInteger(state.runCounter) || state.runCounter < 0) corrupt(`bad run counter ${String(state.runCounter)}`);
  session.runCounter = state.runCounter;
  return m;
}

/** Loads a model written by model.save. */
export async function loadModel(path: string): Promise<LayersModel> {
  const bytes = await readModelFile(path, 'loadModel');
  return modelFromBytes(bytes);
}
