/**
 * The text IR grammar (chevrotain EmbeddedActionsParser): text -> ModuleAst. Only syntax is
 * checked here; errors carry the line and column and say what was expected.
 *
 *   module  := 'graph' '{' node* '}' ( 'data' '{' blob* '}' )? EOF
 *   node    := %name ( '=' ) word '(' refs? ')' attrs? ( ':' types )?
 *   refs    := ref ( ',' ref )*                 ref := %name | %name:i | ^name
 *   attrs   := '{' ( word '=' value ( ',' word '=' value )* )? '}'
 *   value   := number | true | false | string | word | '?' | '[' values? ']'
 *            | 'dense' '<' type ( value | @N ) '>'
 *   types   := '(' ')' | type ( ',' type )*     type := word '[' ( dim ( ',' dim )* )? ']'
 *   blob    := @N '=' hex+
 */
import { EmbeddedActionsParser, type IParserErrorMessageProvider, type IToken, type TokenType, tokenLabel } from 'chevrotain';
import type { AttrAst, BlobAst, BlobRefAst, ModuleAst, NodeAst, Pos, RefAst, TypeAst, ValueAst } from './ast.js';
import {
  BlobRef,
  Colon,
  Comma,
  CtrlRef,
  Equals,
  Hex,
  Ident,
  KwData,
  KwDense,
  KwFalse,
  KwGraph,
  KwTrue,
  LAngle,
  LBrace,
  LBracket,
  LParen,
  NumberLit,
  Question,
  RAngle,
  RBrace,
  RBracket,
  RParen,
  SpecialFloat,
  StringLit,
  ValueRef,
  allTokens,
  textIrLexer,
} from './lexer.js';
import { TextIrError } from './parse-error.js';

function pos(t: IToken): Pos {
  return { line: t.startLine ?? 0, column: t.startColumn ?? 0 };
}

function found(t: IToken): string {
  return t.tokenType.name === 'EOF' ? 'end of input' : `'${t.image}'`;
}

function unquote(quoted: string, t: IToken): string {
  try {
    return JSON.parse(quoted) as string;
  } catch {
    throw new TextIrError('PARSE_ERROR', `bad escape in name ${quoted}`, t.startLine ?? 0, t.startColumn ?? 0);
  }
}

/** Splits the image of %name, %name:i, %"quoted":i or ^name into name and index. */
function decodeRef(t: IToken, control: boolean): RefAst {
  const body = t.image.slice(1);
  const m = /^(?:([^"]*?)|("(?:[^"\\\n]|\\.)*"))(?::(\d+))?$/.exec(body);
  const name = m?.[2] !== undefined ? unquote(m[2], t) : (m?.[1] ?? body);
  const index = m?.[3] !== undefined ? Number(m[3]) : undefined;
  return index === undefined ? { name, control, pos: pos(t) } : { name, index, control, pos: pos(t) };
}

const RULE_WHAT: Record<string, string> = {
  value: 'an attr value',
  dense: 'a tensor literal',
  typeList: 'the result types',
  ref: 'an operand',
};

function where(ruleName: string): string {
  const w = RULE_WHAT[ruleName];
  return w ? ` (${w})` : '';
}

/** "A or B or C" from the first tokens of the alternatives; keywords usable as names fold into 'a name'. */
function alternatives(paths: readonly (readonly TokenType[])[]): string {
  const firsts = new Set<string>();
  for (const path of paths) if (path[0]) firsts.add(tokenLabel(path[0]));
  if (firsts.has(tokenLabel(Ident))) {
    firsts.delete(tokenLabel(KwGraph));
    firsts.delete(tokenLabel(KwData));
  }
  return [...firsts].join(' or ');
}

const messages: IParserErrorMessageProvider = {
  buildMismatchTokenMessage: ({ expected, actual, ruleName }) => {
    // After the nodes of the graph block, '}' is not the only thing that may come.
    const what = ruleName === 'module' && expected === RBrace ? "a node ('%name = op(...)') or '}'" : tokenLabel(expected);
    return `expected ${what} but found ${found(actual)}`;
  },
  buildNotAllInputParsedMessage: ({ firstRedundant }) => `expected end of input but found ${found(firstRedundant)}`,
  buildNoViableAltMessage: ({ expectedPathsPerAlt, actual, ruleName }) =>
    `expected ${alternatives(expectedPathsPerAlt.flat())}${where(ruleName)} but found ${found(actual[0]!)}`,
  buildEarlyExitMessage: ({ expectedIterationPaths, actual, ruleName }) =>
    `expected at least one ${alternatives(expectedIterationPaths)}${where(ruleName)} but found ${found(actual[0]!)}`,
};

class TextIrParser extends EmbeddedActionsParser {
  constructor() {
    super(allTokens, { errorMessageProvider: messages, recoveryEnabled: false, maxLookahead: 2 });
    this.performSelfAnalysis();
  }

  /** A bare word: op names, attr keys and dtypes ('graph' and 'data' allowed; 'dense' starts a tensor). */
  private word = this.RULE('word', (): IToken =>
    this.OR([{ ALT: () => this.CONSUME(Ident) }, { ALT: () => this.CONSUME(KwGraph) }, { ALT: () => this.CONSUME(KwData) }]),
  );

  private type = this.RULE('type', (): TypeAst => {
    const dt = this.SUBRULE(this.word);
    this.CONSUME(LBracket);
    const dims: (string | null)[] = [];
    this.MANY_SEP({
      SEP: Comma,
      DEF: () => {
        const d = this.OR([{ ALT: () => this.CONSUME(NumberLit) }, { ALT: () => this.CONSUME(Question) }]);
        this.ACTION(() => dims.push(d.tokenType === Question ? null : d.image));
      },
    });
    this.CONSUME(RBracket);
    return this.ACTION(() => ({ dtype: dt.image, dims, pos: pos(dt) }));
  });

  private list = this.RULE('list', (): ValueAst => {
    const open = this.CONSUME(LBracket);
    const items: ValueAst[] = [];
    this.MANY_SEP({
      SEP: Comma,
      DEF: () => {
        const v = this.SUBRULE(this.value);
        this.ACTION(() => items.push(v));
      },
    });
    this.CONSUME(RBracket);
    return this.ACTION(() => ({ kind: 'list' as const, items, pos: pos(open) }));
  });

  private dense = this.RULE('dense', (): ValueAst => {
    const kw = this.CONSUME(KwDense);
    this.CONSUME(LAngle);
    const type = this.SUBRULE(this.type);
    const data = this.OR([
      {
        ALT: (): BlobRefAst => {
          const b = this.CONSUME(BlobRef);
          return this.ACTION(() => ({ kind: 'blob' as const, id: Number(b.image.slice(1)), pos: pos(b) }));
        },
      },
      { ALT: (): ValueAst => this.SUBRULE(this.value) },
    ]);
    this.CONSUME(RAngle);
    return this.ACTION(() => ({ kind: 'dense' as const, type, data, pos: pos(kw) }));
  });

  private value = this.RULE('value', (): ValueAst =>
    this.OR([
      {
        ALT: () => {
          const t = this.OR1([{ ALT: () => this.CONSUME(NumberLit) }, { ALT: () => this.CONSUME(SpecialFloat) }]);
          return this.ACTION(() => ({ kind: 'number' as const, text: t.image, pos: pos(t) }));
        },
      },
      {
        ALT: () => {
          const t = this.OR2([{ ALT: () => this.CONSUME(KwTrue) }, { ALT: () => this.CONSUME(KwFalse) }]);
          return this.ACTION(() => ({ kind: 'bool' as const, value: t.tokenType === KwTrue, pos: pos(t) }));
        },
      },
      {
        ALT: () => {
          const t = this.CONSUME(StringLit);
          return this.ACTION(() => ({ kind: 'string' as const, value: unquote(t.image, t), pos: pos(t) }));
        },
      },
      {
        ALT: () => {
          const t = this.CONSUME(Question);
          return this.ACTION(() => ({ kind: 'unknown' as const, pos: pos(t) }));
        },
      },
      { ALT: () => this.SUBRULE(this.list) },
      { ALT: () => this.SUBRULE(this.dense) },
      {
        ALT: () => {
          const t = this.SUBRULE(this.word);
          return this.ACTION(() => ({ kind: 'word' as const, value: t.image, pos: pos(t) }));
        },
      },
    ]),
  );

  private attr = this.RULE('attr', (): AttrAst => {
    const key = this.SUBRULE(this.word);
    this.CONSUME(Equals);
    const value = this.SUBRULE(this.value);
    return this.ACTION(() => ({ key: key.image, value, pos: pos(key) }));
  });

  private ref = this.RULE('ref', (): RefAst => {
    const t = this.OR([{ ALT: () => this.CONSUME(ValueRef) }, { ALT: () => this.CONSUME(CtrlRef) }]);
    return this.ACTION(() => decodeRef(t, t.tokenType === CtrlRef));
  });

  private typeList = this.RULE('typeList', (): TypeAst[] =>
    this.OR([
      {
        ALT: () => {
          this.CONSUME(LParen);
          this.CONSUME(RParen);
          return [];
        },
      },
      {
        ALT: () => {
          const types: TypeAst[] = [];
          this.AT_LEAST_ONE_SEP({
            SEP: Comma,
            DEF: () => {
              const t = this.SUBRULE(this.type);
              this.ACTION(() => types.push(t));
            },
          });
          return types;
        },
      },
    ]),
  );

  private node = this.RULE('node', (): NodeAst => {
    const res = this.CONSUME(ValueRef);
    this.CONSUME(Equals);
    const op = this.SUBRULE(this.word);
    this.CONSUME(LParen);
    const operands: RefAst[] = [];
    this.MANY_SEP({
      SEP: Comma,
      DEF: () => {
        const r = this.SUBRULE(this.ref);
        this.ACTION(() => operands.push(r));
      },
    });
    this.CONSUME(RParen);
    const attrs: AttrAst[] = [];
    this.OPTION(() => {
      this.CONSUME(LBrace);
      this.MANY_SEP1({
        SEP: Comma,
        DEF: () => {
          const a = this.SUBRULE(this.attr);
          this.ACTION(() => attrs.push(a));
        },
      });
      this.CONSUME(RBrace);
    });
    let types: TypeAst[] | undefined;
    this.OPTION1(() => {
      this.CONSUME(Colon);
      types = this.SUBRULE(this.typeList);
    });
    return this.ACTION(() => {
      const node: NodeAst = { result: decodeRef(res, false), op: op.image, opPos: pos(op), operands, attrs, pos: pos(res) };
      if (types !== undefined) node.types = types;
      return node;
    });
  });

  private blob = this.RULE('blob', (): BlobAst => {
    const id = this.CONSUME(BlobRef);
    this.CONSUME(Equals);
    let hex = '';
    this.AT_LEAST_ONE(() => {
      const h = this.CONSUME(Hex);
      this.ACTION(() => {
        hex += h.image.slice(2);
      });
    });
    return this.ACTION(() => ({ id: Number(id.image.slice(1)), hex, pos: pos(id) }));
  });

  module = this.RULE('module', (): ModuleAst => {
    const nodes: NodeAst[] = [];
    const blobs: BlobAst[] = [];
    this.CONSUME(KwGraph);
    this.CONSUME(LBrace);
    this.MANY(() => {
      const n = this.SUBRULE(this.node);
      this.ACTION(() => nodes.push(n));
    });
    this.CONSUME(RBrace);
    this.OPTION(() => {
      this.CONSUME(KwData);
      this.CONSUME1(LBrace);
      this.MANY1(() => {
        const b = this.SUBRULE(this.blob);
        this.ACTION(() => blobs.push(b));
      });
      this.CONSUME1(RBrace);
    });
    return { nodes, blobs };
  });
}

let parser: TextIrParser | undefined;

/**
 * How deeply brackets may nest. The grammar recurses on nesting (a list inside a list), so
 * this bound, checked by one loop over the tokens before parsing, keeps hostile text (1,000
 * '[' in an attr) a PARSE_ERROR instead of a stack overflow. printGraph nests a tensor
 * literal once per dimension, so only ranks above this are refused.
 */
export const MAX_TEXT_IR_NESTING = 64;

const OPENERS = new Set<TokenType>([LBracket, LAngle, LParen, LBrace]);
const CLOSERS = new Set<TokenType>([RBracket, RAngle, RParen, RBrace]);

function checkNesting(tokens: readonly IToken[]): void {
  let depth = 0;
  for (const t of tokens) {
    if (OPENERS.has(t.tokenType)) {
      if (++depth > MAX_TEXT_IR_NESTING) {
        throw new TextIrError('PARSE_ERROR', `brackets nest deeper than ${MAX_TEXT_IR_NESTING} levels`, t.startLine ?? 0, t.startColumn ?? 0);
      }
    } else if (CLOSERS.has(t.tokenType) && depth > 0) depth--;
  }
}

/** Lexes and parses the text; throws TextIrError('PARSE_ERROR') at the first syntax error. */
export function parseModule(text: string): ModuleAst {
  const lexed = textIrLexer.tokenize(text);
  const lexErr = lexed.errors[0];
  if (lexErr) {
    const ch = text.slice(lexErr.offset, lexErr.offset + 1);
    throw new TextIrError('PARSE_ERROR', `unexpected character '${ch}'`, lexErr.line ?? 0, lexErr.column ?? 0);
  }
  checkNesting(lexed.tokens);
  parser ??= new TextIrParser();
  parser.input = lexed.tokens;
  const ast = parser.module();
  const err = parser.errors[0];
  if (err) {
    const t = err.token;
    // At end of input the EOF token has no position: point just past the last token.
    const last = lexed.tokens[lexed.tokens.length - 1];
    const line = Number.isFinite(t.startLine) ? t.startLine! : (last?.endLine ?? 1);
    const column = Number.isFinite(t.startColumn) ? t.startColumn! : (last?.endColumn ?? 0) + 1;
    throw new TextIrError('PARSE_ERROR', err.message, line, column);
  }
  return ast;
}
