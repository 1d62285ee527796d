/**
 * The plain-object shapes of proto/kiln.proto's ProgramProto family as protobufjs exchanges
 * them (snake_case field names, oneof cases as virtual properties), and the enum mappings
 * between Program values and their proto numbers.
 */
import { type AttrValueMsg, type GraphDefMsg, type Int64, KilnError, type TensorMsg, type TensorShapeMsg, type VariableMsg } from '@kiln/graph';
import type { BufferKind, Reducer } from './program.js';

export type { AttrValueMsg };

export interface ExprMsg {
  dtype?: number;
  input?: number;
  constant?: number;
  call?: { fn?: string; args?: ExprMsg[] } | null;
  /** The oneof's case. */
  expr?: 'input' | 'constant' | 'call';
}

export interface BufferMsg {
  id?: number;
  name?: string;
  dtype?: number;
  shape?: TensorShapeMsg | null;
  bytes?: Int64;
  kind?: number;
  offset?: Int64;
  alias_of?: number | null;
  value?: TensorMsg | null;
  source?: string;
}

export interface KernelMsg {
  id?: number;
  nodes?: string[];
  reasons?: string[];
  elementwise?: { exprs?: ExprMsg[]; inputs?: number[]; outputs?: number[]; input_views?: IndexViewMsg[] } | null;
  reduce?: {
    reducer?: number;
    prologue?: ExprMsg | null;
    inputs?: number[];
    in_shape?: Int64[];
    axes?: number[];
    epilogue?: ExprMsg | null;
    epilogue_inputs?: number[];
    output?: number;
  } | null;
  contraction?: {
    a?: number;
    b?: number;
    transpose_a?: boolean;
    transpose_b?: boolean;
    epilogue?: ExprMsg | null;
    epilogue_inputs?: number[];
    output?: number;
  } | null;
  view?: { input?: number; output?: number } | null;
  op?: {
    op?: string;
    family?: string;
    node?: string;
    attr?: Record<string, AttrValueMsg>;
    inputs?: number[];
    outputs?: number[];
    epilogue?: ExprMsg | null;
    epilogue_inputs?: number[];
  } | null;
  /** The oneof's case. */
  spec?: 'elementwise' | 'reduce' | 'contraction' | 'view' | 'op';
}

export interface IndexViewMsg {
  present?: boolean;
  shape?: Int64[];
  offset?: Int64;
  strides?: Int64[];
  valid_lo?: Int64[];
  valid_hi?: Int64[];
  fill?: number;
  or_else?: number;
}

export interface ProgramMsg {
  format_version?: number;
  producer?: string;
  graph?: GraphDefMsg | null;
  variables?: VariableMsg[];
  buffers?: BufferMsg[];
  kernels?: KernelMsg[];
  feeds?: { name?: string; buffer?: number }[];
  fetches?: number[];
  fetch_names?: string[];
  stats?: {
    graph_nodes?: Int64;
    kernels?: Int64;
    arena_bytes?: Int64;
    naive_bytes?: Int64;
    live_lower_bound_bytes?: Int64;
  } | null;
  frees?: { ids?: number[] }[];
  seed?: number;
  run_counter?: Int64;
  checksum?: number;
}

function corrupt(message: string): never {
  throw new KilnError('CORRUPT_MODEL', message);
}

const BUFFER_KINDS: readonly BufferKind[] = ['feed', 'variable', 'const', 'temp']; // BUFFER_FEED = 1, ...
const REDUCERS: readonly Reducer[] = ['sum', 'max', 'min', 'prod']; // REDUCER_SUM = 1, ...

export const bufferKindToProto = (k: BufferKind): number => BUFFER_KINDS.indexOf(k) + 1;
export const reducerToProto = (r: Reducer): number => REDUCERS.indexOf(r) + 1;

export function bufferKindFromProto(v: number | undefined, where: string): BufferKind {
  return BUFFER_KINDS[(v ?? 0) - 1] ?? corrupt(`${where}: unknown buffer kind ${String(v)}`);
}

export function reducerFromProto(v: number | undefined, where: string): Reducer {
  return REDUCERS[(v ?? 0) - 1] ?? corrupt(`${where}: unknown reducer ${String(v)}`);
}
