/**
 * A small FileCheck (as in LLVM/MLIR tests) over text dumps: `CHECK: s` finds s at or after
 * the current line, `CHECK-NEXT: s` on the very next line, `CHECK-NOT: s` must not occur
 * between the previous match and the next one (or the end).
 */
export interface Check {
  kind: 'CHECK' | 'CHECK-NEXT' | 'CHECK-NOT';
  text: string;
}

export function parseChecks(src: string): Check[] {
  const out: Check[] = [];
  for (const line of src.split('\n')) {
    const m = /\/\/\s*(CHECK(?:-NEXT|-NOT)?):\s?(.*)$/.exec(line);
    if (m) out.push({ kind: m[1] as Check['kind'], text: m[2]!.trim() });
  }
  return out;
}

/** Returns null on success, else a message showing the failing directive and the output. */
export function fileCheck(output: string, checks: Check[]): string | null {
  const lines = output.split('\n');
  let pos = 0; // next line to search from
  let pendingNot: Check[] = [];
  const fail = (msg: string) => `${msg}\n--- output ---\n${output}`;
  for (const c of checks) {
    if (c.kind === 'CHECK-NOT') {
      pendingNot.push(c);
      continue;
    }
    let found = -1;
    if (c.kind === 'CHECK-NEXT') {
      if (pos < lines.length && lines[pos]!.includes(c.text)) found = pos;
      else return fail(`CHECK-NEXT: '${c.text}' not on line ${pos + 1}`);
    } else {
      for (let i = pos; i < lines.length; i++)
        if (lines[i]!.includes(c.text)) {
          found = i;
          break;
        }
      if (found < 0) return fail(`CHECK: '${c.text}' not found after line ${pos}`);
    }
    for (const n of pendingNot) {
      for (let i = pos; i < found; i++) if (lines[i]!.includes(n.text)) return fail(`CHECK-NOT: '${n.text}' found on line ${i + 1}`);
    }
    pendingNot = [];
    pos = found + 1;
  }
  for (const n of pendingNot) {
    for (let i = pos; i < lines.length; i++) if (lines[i]!.includes(n.text)) return fail(`CHECK-NOT: '${n.text}' found on line ${i + 1}`);
  }
  return null;
}
