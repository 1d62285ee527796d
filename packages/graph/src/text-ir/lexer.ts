/** Tokens of the text IR (chevrotain lexer). Whitespace and `//` or `#` comments are skipped. */
import { Lexer, createToken } from 'chevrotain';

const NAME = String.raw`(?:[A-Za-z0-9_.\-/]+|"(?:[^"\\\n]|\\.)*")`;

export const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /\s+/, group: Lexer.SKIPPED, line_breaks: true });
export const Comment = createToken({ name: 'Comment', pattern: /(?:\/\/|#)[^\n]*/, group: Lexer.SKIPPED });

/** %name (output 0) or %name:i; a name that is not plain is written as a JSON string. */
export const ValueRef = createToken({ name: 'ValueRef', pattern: new RegExp(`%${NAME}(?::\\d+)?`), label: "'%name'" });
/** ^name: a control input. */
export const CtrlRef = createToken({ name: 'CtrlRef', pattern: new RegExp(`\\^${NAME}`), label: "'^name'" });
/** @N: a tensor stored in the data section. */
export const BlobRef = createToken({ name: 'BlobRef', pattern: /@\d+/, label: "'@N'" });
export const Hex = createToken({ name: 'Hex', pattern: /0x[0-9a-fA-F]*/, label: "hex bytes '0x...'" });
export const NumberLit = createToken({
  name: 'NumberLit',
  pattern: /-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?/,
  label: 'a number',
});
export const StringLit = createToken({ name: 'StringLit', pattern: /"(?:[^"\\\n]|\\.)*"/, label: 'a string' });

export const Ident = createToken({ name: 'Ident', pattern: /[A-Za-z_][A-Za-z0-9_.]*/, label: 'a name' });
/** inf, -inf, nan, nan(0x7fc00001): float literals that are not decimals. */
export const SpecialFloat = createToken({
  name: 'SpecialFloat',
  pattern: /-inf|inf|nan(?:\(0x[0-9a-fA-F]{1,8}\))?/,
  longer_alt: Ident,
  label: 'a number',
});
export const KwGraph = createToken({ name: 'KwGraph', pattern: /graph/, longer_alt: Ident, label: "'graph'" });
export const KwData = createToken({ name: 'KwData', pattern: /data/, longer_alt: Ident, label: "'data'" });
export const KwDense = createToken({ name: 'KwDense', pattern: /dense/, longer_alt: Ident, label: "'dense'" });
export const KwTrue = createToken({ name: 'KwTrue', pattern: /true/, longer_alt: Ident, label: "'true'" });
export const KwFalse = createToken({ name: 'KwFalse', pattern: /false/, longer_alt: Ident, label: "'false'" });

export const Equals = createToken({ name: 'Equals', pattern: /=/, label: "'='" });
export const Colon = createToken({ name: 'Colon', pattern: /:/, label: "':'" });
export const Comma = createToken({ name: 'Comma', pattern: /,/, label: "','" });
export const LParen = createToken({ name: 'LParen', pattern: /\(/, label: "'('" });
export const RParen = createToken({ name: 'RParen', pattern: /\)/, label: "')'" });
export const LBrace = createToken({ name: 'LBrace', pattern: /\{/, label: "'{'" });
export const RBrace = createToken({ name: 'RBrace', pattern: /\}/, label: "'}'" });
export const LBracket = createToken({ name: 'LBracket', pattern: /\[/, label: "'['" });
export const RBracket = createToken({ name: 'RBracket', pattern: /\]/, label: "']'" });
export const LAngle = createToken({ name: 'LAngle', pattern: /</, label: "'<'" });
export const RAngle = createToken({ name: 'RAngle', pattern: />/, label: "'>'" });
export const Question = createToken({ name: 'Question', pattern: /\?/, label: "'?'" });

/** In match order: comments before anything, hex before numbers, keywords before names. */
export const allTokens = [
  WhiteSpace,
  Comment,
  ValueRef,
  CtrlRef,
  BlobRef,
  Hex,
  SpecialFloat,
  NumberLit,
  StringLit,
  KwGraph,
  KwData,
  KwDense,
  KwTrue,
  KwFalse,
  Ident,
  Equals,
  Colon,
  Comma,
  LParen,
  RParen,
  LBrace,
  RBrace,
  LBracket,
  RBracket,
  LAngle,
  RAngle,
  Question,
];

export const textIrLexer = new Lexer(allTokens, { ensureOptimizations: false, positionTracking: 'full' });
