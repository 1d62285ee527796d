/**
 * Pictures of graphs and compiled programs: the graph as Graphviz DOT (one box per node with
 * its op, name and output type; edges labelled with the tensor shape; placeholders, variables
 * and constants drawn apart), optionally with the program's kernels as clusters (the nodes a
 * fused kernel computes sit in one box titled with the kernel's id and kind), rendered to SVG
 * by Graphviz compiled to WebAssembly (@viz-js/viz).
 */
import type { Kernel } from '@kiln/compiler';
import { type Graph, type Node, type SymbolicTensor, fmtShape } from '@kiln/graph';

function quote(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

function typeOf(t: SymbolicTensor): string {
  return `${t.dtype}${fmtShape(t.shape)}`;
}

const STYLE: Record<string, string> = {
  placeholder: 'shape=ellipse, style=filled, fillcolor="#cfe8ff"',
  variable: 'shape=box, style="filled", fillcolor="#fff2b3"',
  const: 'shape=box, style="filled,dashed", fillcolor="#eeeeee", fontsize=9',
};
const OP_STYLE = 'shape=box, style="rounded,filled", fillcolor="#ffffff"';

/** The nodes `outputs` depend on (all nodes when there are none). */
function reachable(g: Graph, outputs: readonly SymbolicTensor[]): Node[] {
  if (outputs.length === 0) return [...g.nodes];
  const seen = new Set<Node>();
  const stack = outputs.map((t) => t.node);
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    for (const t of n.inputs) stack.push(t.node);
    for (const c of n.controlInputs) stack.push(c);
  }
  return g.nodes.filter((n) => seen.has(n));
}

export interface DotOptions {
  /** Draw only what these depend on. */
  outputs?: readonly SymbolicTensor[];
  /** Group nodes into one cluster per kernel (a compiled program's kernels over its graph). */
  kernels?: readonly Kernel[];
  title?: string;
}

/** Graphviz DOT text for `g`. */
export function graphToDot(g: Graph, opts: DotOptions = {}): string {
  const nodes = reachable(g, opts.outputs ?? []);
  const ids = new Map(nodes.map((n, i) => [n, `n${i}`]));
  const line = (n: Node): string => {
    const type = n.outputs.length === 1 ? typeOf(n.output) : `${n.outputs.length} outputs`;
    const label = n.op === n.name ? `${n.op}\n${type}` : `${n.op}\n${n.name}\n${type}`;
    return `${ids.get(n)} [label=${quote(label)}, ${STYLE[n.op] ?? OP_STYLE}];`;
  };
  const out: string[] = [
    'digraph kiln {',
    '  rankdir=TB;',
    '  node [fontname="Helvetica", fontsize=10];',
    '  edge [fontname="Helvetica", fontsize=8, color="#555555"];',
  ];
  if (opts.title) out.push(`  label=${quote(opts.title)}; labelloc=t; fontname="Helvetica";`);
  const clustered = new Set<Node>();
  if (opts.kernels) {
    const byName = new Map(nodes.map((n) => [n.name, n]));
    for (const k of opts.kernels) {
      const members = k.nodes.map((name) => byName.get(name)).filter((n): n is Node => n !== undefined && !clustered.has(n));
      if (members.length === 0) continue;
      out.push(
        `  subgraph cluster_k${k.id} {`,
        `    label=${quote(`k${k.id} ${k.spec.kind === 'op' ? k.spec.family : k.spec.kind}${members.length > 1 ? ` (${members.length} ops fused)` : ''}`)};`,
      );
      out.push('    style="rounded,filled"; fillcolor="#eef6ee"; color="#5a9a5a"; fontsize=10;');
      for (const n of members) {
        clustered.add(n);
        out.push(`    ${line(n)}`);
      }
      out.push('  }');
    }
  }
  for (const n of nodes) if (!clustered.has(n)) out.push(`  ${line(n)}`);
  for (const n of nodes) {
    for (const t of n.inputs) {
      const from = ids.get(t.node);
      if (from) out.push(`  ${from} -> ${ids.get(n)} [label=${quote(fmtShape(t.shape))}];`);
    }
    for (const c of n.controlInputs) {
      const from = ids.get(c);
      if (from) out.push(`  ${from} -> ${ids.get(n)} [style=dashed];`);
    }
  }
  out.push('}');
  return out.join('\n');
}

/** Renders DOT text to an SVG document with Graphviz (WebAssembly). */
export async function renderSvg(dot: string): Promise<string> {
  const { instance } = await import('@viz-js/viz');
  const viz = await instance();
  return viz.renderString(dot, { format: 'svg', engine: 'dot' });
}
