/**
 * Text IR errors: syntax errors carry line, column and what was expected; semantic errors
 * (unknown op, unknown operand, bad attr, inference failures, declared types that disagree
 * with inference) keep their KilnError code and name the line and the node.
 */
import { describe, expect, it } from '@jest/globals';
import { KilnError, TextIrError, parseGraph } from '@kiln/graph';

function errorOf(text: string): TextIrError {
  try {
    parseGraph(text);
  } catch (e) {
    expect(e).toBeInstanceOf(KilnError);
    expect(e).toBeInstanceOf(TextIrError);
    return e as TextIrError;
  }
  throw new Error('parseGraph accepted the text');
}

const X = '  %x = placeholder() {dtype=float32, shape=[?,3]} : float32[?,3]';

describe('text IR syntax errors', () => {
  it('reports line, column and the expected token', () => {
    const e = errorOf(`graph {\n${X}\n  %y = relu(%x  %x) : float32[?,3]\n}`);
    expect(e.code).toBe('PARSE_ERROR');
    expect([e.line, e.column]).toEqual([3, 17]);
    expect(e.message).toBe("line 3, column 17: expected ')' but found '%x'");
  });

  it('reports a missing = and a bad attr list', () => {
    const e = errorOf('graph {\n  %x placeholder()\n}');
    expect(e.message).toBe("line 2, column 6: expected '=' but found 'placeholder'");
    const e2 = errorOf('graph {\n  %x = placeholder() {dtype float32}\n}');
    expect([e2.code, e2.line, e2.column]).toEqual(['PARSE_ERROR', 2, 29]);
    expect(e2.message).toMatch(/expected '=' but found 'float32'/);
  });

  it('lists the alternatives where several tokens could come', () => {
    const e = errorOf(`graph {\n${X}\n  %y = leakyRelu(%x) {alpha=}\n}`);
    expect([e.line, e.column]).toEqual([3, 29]);
    expect(e.message).toMatch(/expected a number or 'true' or 'false' or a string .* \(an attr value\) but found '}'$/);
    const e2 = errorOf('graph {\n  frobnicate\n}');
    expect(e2.message).toBe("line 2, column 3: expected a node ('%name = op(...)') or '}' but found 'frobnicate'");
  });

  it('reports unexpected characters and the end of input', () => {
    const e = errorOf(`graph {\n${X}\n  %y = relu(%x) $\n}`);
    expect(e.message).toBe("line 3, column 17: unexpected character '$'");
    const e2 = errorOf(`graph {\n${X}\n`);
    expect(e2.code).toBe('PARSE_ERROR');
    expect(e2.line).toBe(2);
    expect(e2.message).toMatch(/but found end of input/);
  });

  it('rejects operands after control inputs and trailing text', () => {
    expect(errorOf(`graph {\n${X}\n  %y = add(^x, %x)\n}`).message).toMatch(/^line 3: add 'y': operand %x follows a control input/);
    expect(errorOf(`graph {\n${X}\n}\ngraph {}`).message).toBe("line 4, column 1: expected end of input but found 'graph'");
  });
});

describe('text IR semantic errors', () => {
  it('unknown op names the op and the line', () => {
    const e = errorOf(`graph {\n${X}\n  %y = frobnicate(%x)\n}`);
    expect(e.code).toBe('UNKNOWN_OP');
    expect(e.message).toBe("line 3: unknown op 'frobnicate' (node 'y')");
  });

  it('unknown operand and use before definition', () => {
    const e = errorOf(`graph {\n${X}\n  %y = add(%x, %z)\n}`);
    expect(e.code).toBe('UNKNOWN_TENSOR');
    expect(e.message).toBe("line 3: add 'y': unknown operand %z");
    const e2 = errorOf(`graph {\n  %y = relu(%x)\n${X}\n}`);
    expect(e2.message).toBe("line 2: relu 'y': %x is used before its definition on line 3");
    const e3 = errorOf(`graph {\n${X}\n  %y = relu(%x:1)\n}`);
    expect(e3.message).toBe("line 3: relu 'y': %x:1: node 'x' (placeholder) has 1 output");
    expect(errorOf(`graph {\n${X}\n  %y = relu(%x, ^nope)\n}`).message).toBe("line 3: relu 'y': unknown operand ^nope");
  });

  it('declared result types are checked against inference', () => {
    const shape = errorOf(`graph {\n${X}\n  %y = relu(%x) : float32[2,3]\n}`);
    expect(shape.code).toBe('SHAPE_MISMATCH');
    expect(shape.message).toBe("line 3: relu 'y': declared result type float32[2,3] but inferred float32[?,3]");
    const dtype = errorOf(`graph {\n${X}\n  %y = relu(%x) : int32[?,3]\n}`);
    expect(dtype.code).toBe('DTYPE_MISMATCH');
    const count = errorOf(`graph {\n${X}\n  %y = relu(%x) : float32[?,3], float32[?,3]\n}`);
    expect(count.message).toMatch(/declared result type float32\[\?,3\], float32\[\?,3\] but inferred float32\[\?,3\]/);
    const lhs = errorOf(`graph {\n  %a = placeholder() {dtype=float32, shape=[4]}\n  %s:3 = split(%a) {num=2}\n}`);
    expect(lhs.message).toBe("line 3: split 's': written with 3 outputs (%s:3) but split gives 2");
  });

  it('inference errors from addNode keep their code and gain the line', () => {
    const dt = errorOf(`graph {\n${X}\n  %i = placeholder() {dtype=int32, shape=[3]}\n  %y = add(%x, %i)\n}`);
    expect(dt.code).toBe('DTYPE_MISMATCH');
    expect(dt.message).toMatch(/^line 4: add 'y': operands must have the same dtype/);
    const sh = errorOf(`graph {\n${X}\n  %b = placeholder() {dtype=float32, shape=[4]}\n  %y = add(%x, %b)\n}`);
    expect(sh.code).toBe('SHAPE_MISMATCH');
    expect(sh.message).toMatch(/^line 4: add 'y': /);
    const dup = errorOf(`graph {\n${X}\n${X}\n}`);
    expect(dup.message).toMatch(/^line 3: placeholder 'x': .*already exists/);
  });

  it('bad attrs name the attr, the node and the line', () => {
    const cases: [string, string, RegExp][] = [
      ['%y = leakyRelu(%x) {alpha="big"}', 'INVALID_ATTR', /^line 3: leakyRelu 'y': attr 'alpha' expects a number, got "big"$/],
      ['%y = leakyRelu(%x) {beta=1.0}', 'INVALID_ATTR', /^line 3: leakyRelu 'y': unknown attr 'beta' \(expected 'alpha'\)$/],
      ['%y = leakyRelu(%x) {constructor=1.0}', 'INVALID_ATTR', /unknown attr 'constructor'/],
      ['%y = leakyRelu(%x) {alpha=1.0, alpha=2.0}', 'INVALID_ATTR', /attr 'alpha' given twice/],
      ['%y = cast(%x)', 'INVALID_ATTR', /^line 3: cast 'y': missing required attr 'dtype'/],
      ['%y = cast(%x) {dtype=float64}', 'INVALID_ATTR', /attr 'dtype': unknown dtype 'float64'/],
      ['%y = sum(%x) {axis=[0.5]}', 'INVALID_ATTR', /attr 'axis' expects an integer, got 0.5/],
      ['%y = sum(%x) {axis=1}', 'INVALID_ATTR', /attr 'axis' expects a list of integers, got 1/],
      ['%y = sum(%x) {axis=[0], keepDims=1}', 'INVALID_ATTR', /attr 'keepDims' expects true or false, got 1/],
      ['%c = const() {value=dense<float32[2] [1.0]>}', 'INVALID_ATTR', /values do not match the shape \[2\]: dimension 0 has size 2, got 1 items/],
      ['%c = const() {value=dense<float32[2] [[1.0],[2.0]]>}', 'INVALID_ATTR', /values nest deeper than the shape \[2\]/],
      ['%c = const() {value=dense<int32[1] [3000000000]>}', 'INVALID_ATTR', /int32 tensor element 0 must be a 32-bit integer/],
      ['%c = const() {value=dense<bool[1] [1]>}', 'INVALID_ATTR', /bool tensor element 0 must be true or false/],
      ['%c = const() {value=dense<float32[?] []>}', 'INVALID_ATTR', /a tensor needs a known shape, got float32\[\?\]/],
      ['%c = const() {value=[1.0]}', 'INVALID_ATTR', /attr 'value' expects a tensor/],
      ['%c = const() {value=dense<float32[20] @0>}', 'PARSE_ERROR', /@0 is not in the data section/],
    ];
    for (const [line, code, re] of cases) {
      const e = errorOf(`graph {\n${X}\n  ${line}\n}`);
      expect([line, e.code]).toEqual([line, code]);
      expect(e.message).toMatch(re);
    }
  });

  it('data section entries must hold the right number of bytes', () => {
    const e = errorOf('graph {\n  %c = const() {value=dense<int32[20] @0>}\n}\ndata {\n  @0 = 0x0102\n}');
    expect(e.code).toBe('CORRUPT_MODEL');
    expect(e.message).toBe("line 2: const 'c': attr 'value': data @0 (line 5) for int32[20]: expected 80 bytes (20 x int32), got 2");
    const dup = errorOf('graph {\n}\ndata {\n  @0 = 0x00\n  @0 = 0x00\n}');
    expect(dup.message).toBe('line 5, column 3: data @0 is defined twice');
  });
});
