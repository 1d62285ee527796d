/**
 * The syntax tree the parser produces: text structure only, nothing checked against the op
 * registry yet (the graph builder does that). Every piece keeps its position for errors.
 */
export interface Pos {
  line: number;
  column: number;
}

export type ValueAst =
  | { kind: 'number'; text: string; pos: Pos } // decimal, inf, -inf, nan, nan(0x...)
  | { kind: 'bool'; value: boolean; pos: Pos }
  | { kind: 'string'; value: string; pos: Pos }
  | { kind: 'word'; value: string; pos: Pos } // a bare name: dtype attrs (float32)
  | { kind: 'unknown'; pos: Pos } // ? in a shape
  | { kind: 'list'; items: ValueAst[]; pos: Pos }
  | { kind: 'dense'; type: TypeAst; data: ValueAst | BlobRefAst; pos: Pos };

export interface BlobRefAst {
  kind: 'blob';
  id: number;
  pos: Pos;
}

export interface TypeAst {
  dtype: string;
  /** null for '?'; numbers as written (checked later). */
  dims: (string | null)[];
  pos: Pos;
}

export interface RefAst {
  name: string;
  /** Output index for operands; output count on the left of '=' (absent when not written). */
  index?: number;
  control: boolean;
  pos: Pos;
}

export interface AttrAst {
  key: string;
  value: ValueAst;
  pos: Pos;
}

export interface NodeAst {
  result: RefAst;
  op: string;
  opPos: Pos;
  operands: RefAst[];
  attrs: AttrAst[];
  /** Declared result types; undefined when the ': types' part is left out (then not checked). */
  types?: TypeAst[];
  pos: Pos;
}

export interface BlobAst {
  id: number;
  hex: string;
  pos: Pos;
}

export interface ModuleAst {
  nodes: NodeAst[];
  blobs: BlobAst[];
}
