/**
 * The P4_16 AST: a tagged union with one `kind` per node; every node has a source span. The
 * checker fills the optional annotation fields (`type` on expressions, `decl` on names, `target`
 * on calls, `member` resolution) so an interpreter can run the tree without redoing name lookup.
 */
import type { P4Type } from './types.ts';

/** A source range; line and col are 1-based, offsets 0-based into the file's text. */
export interface Span {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  readonly offset: number;
  readonly end: number;
}

export interface Annotation {
  readonly kind: 'annotation';
  readonly span: Span;
  readonly name: string;
  /** Parsed arguments when they are simple literals (string, integer, identifier). */
  readonly args: readonly (string | bigint)[];
  /** The annotation as written, normalised (`@noWarn("unused")`), as P4Info lists it. */
  readonly text: string;
}

// ---------------------------------------------------------------------------------------------
// Types as written in the source
export type TypeRef =
  | { readonly kind: 'bitType'; readonly span: Span; readonly width: Expression }
  | { readonly kind: 'intType'; readonly span: Span; readonly width: Expression }
  | { readonly kind: 'varbitType'; readonly span: Span; readonly width: Expression }
  | { readonly kind: 'boolType'; readonly span: Span }
  | { readonly kind: 'errorType'; readonly span: Span }
  | { readonly kind: 'stringType'; readonly span: Span }
  | { readonly kind: 'voidType'; readonly span: Span }
  | { readonly kind: 'infIntType'; readonly span: Span }
  | { readonly kind: 'dontCareType'; readonly span: Span }
  | { readonly kind: 'namedType'; readonly span: Span; readonly name: string; readonly typeArgs: readonly TypeRef[] }
  | { readonly kind: 'stackType'; readonly span: Span; readonly element: TypeRef; readonly size: Expression };

// ---------------------------------------------------------------------------------------------
// Expressions

/** What a call resolves to, filled by the checker. */
export type CallTarget =
  | { readonly kind: 'action'; readonly decl: ActionDecl }
  | { readonly kind: 'externFunction'; readonly decl: ExternFunctionDecl }
  | { readonly kind: 'externMethod'; readonly extern: ExternDecl; readonly method: MethodDecl }
  | { readonly kind: 'tableApply'; readonly table: TableDecl }
  | { readonly kind: 'blockApply'; readonly decl: ParserDecl | ControlDecl }
  | { readonly kind: 'headerMethod'; readonly method: 'isValid' | 'setValid' | 'setInvalid' }
  | { readonly kind: 'stackMethod'; readonly method: 'push_front' | 'pop_front' };

/** What a `a.b` member expression means, filled by the checker. */
export type MemberResolution =
  | { readonly kind: 'field' }
  | { readonly kind: 'enumMember'; readonly enumName: string }
  | { readonly kind: 'errorMember' }
  | { readonly kind: 'method' }
  | { readonly kind: 'applyResult'; readonly field: 'hit' | 'miss' | 'action_run' }
  | { readonly kind: 'stackProperty'; readonly property: 'size' | 'lastIndex' | 'next' | 'last' };

interface ExprBase {
  readonly span: Span;
  /** Resolved type, set by the checker. */
  type?: P4Type;
  /** The value of a compile-time constant expression, set by the checker; reduced to `type`'s range when that is bit<W>/int<W>. */
  constValue?: bigint | boolean;
}

export interface IntLiteral extends ExprBase {
  readonly kind: 'int';
  readonly value: bigint;
  /** Width when written with one (`8w5`, `4s3`), else undefined (an arbitrary-precision int). */
  readonly width: number | undefined;
  readonly signed: boolean;
  readonly text: string;
}
export interface BoolLiteral extends ExprBase { readonly kind: 'bool'; readonly value: boolean }
export interface StringLiteral extends ExprBase { readonly kind: 'string'; readonly value: string }
export interface NameExpr extends ExprBase {
  readonly kind: 'name';
  readonly name: string;
  /** `.name`: looked up at top level only. */
  readonly global: boolean;
  /** The declaration it refers to, set by the checker. */
  decl?: Declaration | Param;
}
export interface MemberExpr extends ExprBase {
  readonly kind: 'member';
  readonly expr: Expression;
  readonly member: string;
  resolution?: MemberResolution;
}
export interface IndexExpr extends ExprBase { readonly kind: 'index'; readonly expr: Expression; readonly index: Expression }
export interface SliceExpr extends ExprBase {
  readonly kind: 'slice';
  readonly expr: Expression;
  readonly hi: Expression;
  readonly lo: Expression;
  /** Constant bounds, set by the checker. */
  hiValue?: number;
  loValue?: number;
}
export interface CallExpr extends ExprBase {
  readonly kind: 'call';
  readonly callee: Expression;
  readonly typeArgs: readonly TypeRef[];
  readonly args: readonly Expression[];
  target?: CallTarget;
}
export type UnaryOp = '!' | '~' | '-' | '+';
export interface UnaryExpr extends ExprBase { readonly kind: 'unary'; readonly op: UnaryOp; readonly operand: Expression }
export type BinaryOp =
  | '*' | '/' | '%' | '+' | '-' | '|+|' | '|-|' | '<<' | '>>' | '<' | '<=' | '>' | '>=' | '==' | '!='
  | '&' | '^' | '|' | '&&' | '||' | '++';
export interface BinaryExpr extends ExprBase {
  readonly kind: 'binary';
  readonly op: BinaryOp;
  readonly left: Expression;
  readonly right: Expression;
}
export interface TernaryExpr extends ExprBase {
  readonly kind: 'ternary';
  readonly cond: Expression;
  readonly then: Expression;
  readonly else: Expression;
}
export interface CastExpr extends ExprBase { readonly kind: 'cast'; readonly target: TypeRef; readonly expr: Expression }
/** `{a, b}`: a list; typed as a tuple, or as the struct/header it initialises. */
export interface ListExpr extends ExprBase { readonly kind: 'list'; readonly elements: readonly Expression[] }
/** `value &&& mask` in a select case or an entry key. */
export interface MaskExpr extends ExprBase { readonly kind: 'mask'; readonly value: Expression; readonly mask: Expression }
/** `lo .. hi` in a select case or an entry key. */
export interface RangeExpr extends ExprBase { readonly kind: 'range'; readonly lo: Expression; readonly hi: Expression }
/** `default` or `_` in a keyset; `_` also as a don't-care argument. */
export interface DefaultExpr extends ExprBase { readonly kind: 'default'; readonly dontCare: boolean }
/** A type used where an expression is expected (`HashAlgorithm` in `HashAlgorithm.crc32`, `error`). */
export interface TypeNameExpr extends ExprBase { readonly kind: 'typeName'; readonly typeRef: TypeRef }

export type Expression =
  | IntLiteral | BoolLiteral | StringLiteral | NameExpr | MemberExpr | IndexExpr | SliceExpr | CallExpr
  | UnaryExpr | BinaryExpr | TernaryExpr | CastExpr | ListExpr | MaskExpr | RangeExpr | DefaultExpr
  | TypeNameExpr;

// ---------------------------------------------------------------------------------------------
// Statements

export interface AssignStmt { readonly kind: 'assign'; readonly span: Span; readonly left: Expression; readonly right: Expression }
export interface CallStmt { readonly kind: 'callStmt'; readonly span: Span; readonly call: CallExpr }
export interface IfStmt {
  readonly kind: 'if';
  readonly span: Span;
  readonly cond: Expression;
  readonly then: Statement;
  readonly else: Statement | undefined;
}
export interface BlockStmt { readonly kind: 'block'; readonly span: Span; readonly annotations: readonly Annotation[]; readonly statements: readonly Statement[] }
export interface SwitchCase {
  readonly span: Span;
  /** Action names (for `action_run`) or expressions; `default` as a DefaultExpr. */
  readonly label: Expression;
  /** Undefined for a fall-through label (`a: b: {...}`). */
  readonly body: BlockStmt | undefined;
}
export interface SwitchStmt { readonly kind: 'switch'; readonly span: Span; readonly expr: Expression; readonly cases: readonly SwitchCase[] }
export interface ReturnStmt { readonly kind: 'return'; readonly span: Span; readonly value: Expression | undefined }
export interface ExitStmt { readonly kind: 'exit'; readonly span: Span }
export interface EmptyStmt { readonly kind: 'empty'; readonly span: Span }

export type Statement =
  | AssignStmt | CallStmt | IfStmt | BlockStmt | SwitchStmt | ReturnStmt | ExitStmt | EmptyStmt
  | VarDecl | ConstDecl | Instantiation;

// ---------------------------------------------------------------------------------------------
// Declarations

export type Direction = 'in' | 'out' | 'inout' | 'none';

export interface Param {
  readonly kind: 'param';
  readonly span: Span;
  readonly annotations: readonly Annotation[];
  readonly direction: Direction;
  readonly typeRef: TypeRef;
  readonly name: string;
  readonly defaultValue: Expression | undefined;
  /** Resolved type, set by the checker. */
  type?: P4Type;
}

interface DeclBase {
  readonly span: Span;
  readonly name: string;
  readonly annotations: readonly Annotation[];
}

export interface Field { readonly span: Span; readonly annotations: readonly Annotation[]; readonly typeRef: TypeRef; readonly name: string; type?: P4Type }

export interface ConstDecl extends DeclBase { readonly kind: 'const'; readonly typeRef: TypeRef; readonly value: Expression; type?: P4Type; constValue?: bigint | boolean }
export interface VarDecl extends DeclBase { readonly kind: 'var'; readonly typeRef: TypeRef; readonly init: Expression | undefined; type?: P4Type }
export interface TypedefDecl extends DeclBase { readonly kind: 'typedef'; readonly typeRef: TypeRef; readonly isNewType: boolean }
export interface HeaderDecl extends DeclBase { readonly kind: 'header'; readonly fields: readonly Field[] }
export interface HeaderUnionDecl extends DeclBase { readonly kind: 'headerUnion'; readonly fields: readonly Field[] }
export interface StructDecl extends DeclBase { readonly kind: 'struct'; readonly fields: readonly Field[] }
export interface EnumDecl extends DeclBase {
  readonly kind: 'enum';
  /** Underlying type of a serializable enum (`enum bit<8> E {...}`). */
  readonly underlying: TypeRef | undefined;
  readonly members: readonly { readonly name: string; readonly span: Span; readonly value: Expression | undefined }[];
}
export interface ErrorDecl extends DeclBase { readonly kind: 'error'; readonly members: readonly string[] }
export interface MatchKindDecl extends DeclBase { readonly kind: 'matchKind'; readonly members: readonly string[] }

export interface MethodDecl extends DeclBase {
  readonly kind: 'method';
  readonly returnType: TypeRef | undefined; // undefined for constructors
  readonly typeParams: readonly string[];
  readonly params: readonly Param[];
  readonly isAbstract: boolean;
}
export interface ExternDecl extends DeclBase {
  readonly kind: 'extern';
  readonly typeParams: readonly string[];
  readonly constructors: readonly MethodDecl[];
  readonly methods: readonly MethodDecl[];
}
export interface ExternFunctionDecl extends DeclBase {
  readonly kind: 'externFunction';
  readonly returnType: TypeRef;
  readonly typeParams: readonly string[];
  readonly params: readonly Param[];
}
export interface ActionDecl extends DeclBase { readonly kind: 'action'; readonly params: readonly Param[]; readonly body: BlockStmt }

export interface KeyElement { readonly span: Span; readonly expr: Expression; readonly matchKind: string; readonly matchKindSpan: Span; readonly annotations: readonly Annotation[] }
export interface ActionRef { readonly span: Span; readonly annotations: readonly Annotation[]; readonly name: NameExpr; readonly args: readonly Expression[]; decl?: ActionDecl }
export interface TableEntry { readonly span: Span; readonly annotations: readonly Annotation[]; readonly keys: readonly Expression[]; readonly action: CallExpr; readonly priority: Expression | undefined }
export type TableProperty =
  | { readonly kind: 'key'; readonly span: Span; readonly elements: readonly KeyElement[] }
  | { readonly kind: 'actions'; readonly span: Span; readonly actions: readonly ActionRef[] }
  | { readonly kind: 'defaultAction'; readonly span: Span; readonly isConst: boolean; readonly action: CallExpr }
  | { readonly kind: 'entries'; readonly span: Span; readonly isConst: boolean; readonly entries: readonly TableEntry[] }
  | { readonly kind: 'other'; readonly span: Span; readonly isConst: boolean; readonly annotations: readonly Annotation[]; readonly name: string; readonly value: Expression };
export interface TableDecl extends DeclBase { readonly kind: 'table'; readonly properties: readonly TableProperty[] }

export interface ParserState extends DeclBase {
  readonly statements: readonly Statement[];
  readonly transition: Transition | undefined;
}
export type Transition =
  | { readonly kind: 'direct'; readonly span: Span; readonly target: string; readonly targetSpan: Span }
  | { readonly kind: 'select'; readonly span: Span; readonly exprs: readonly Expression[]; readonly cases: readonly SelectCase[] };
export interface SelectCase { readonly span: Span; readonly keyset: Expression; readonly target: string; readonly targetSpan: Span }

export interface ParserDecl extends DeclBase {
  readonly kind: 'parser';
  readonly typeParams: readonly string[];
  readonly params: readonly Param[];
  readonly ctorParams: readonly Param[];
  readonly locals: readonly Statement[];
  readonly states: readonly ParserState[];
}
export interface ControlDecl extends DeclBase {
  readonly kind: 'control';
  readonly typeParams: readonly string[];
  readonly params: readonly Param[];
  readonly ctorParams: readonly Param[];
  readonly locals: readonly (ActionDecl | TableDecl | VarDecl | ConstDecl | Instantiation)[];
  readonly apply: BlockStmt;
}
/** `parser P<H>(...);` / `control C<H>(...);` / `package V1Switch<H, M>(...);` without a body. */
export interface BlockTypeDecl extends DeclBase {
  readonly kind: 'parserType' | 'controlType' | 'packageType';
  readonly typeParams: readonly string[];
  readonly params: readonly Param[];
}
export interface Instantiation extends DeclBase {
  readonly kind: 'instantiation';
  readonly typeRef: TypeRef;
  readonly args: readonly Expression[];
  type?: P4Type;
}

export type Declaration =
  | ConstDecl | VarDecl | TypedefDecl | HeaderDecl | HeaderUnionDecl | StructDecl | EnumDecl | ErrorDecl
  | MatchKindDecl | ExternDecl | ExternFunctionDecl | ActionDecl | TableDecl | ParserDecl | ControlDecl
  | BlockTypeDecl | Instantiation | MethodDecl;

export interface Program {
  readonly kind: 'program';
  readonly span: Span;
  readonly declarations: readonly Declaration[];
}

/** The annotation of that name, if present. */
export function findAnnotation(annotations: readonly Annotation[], name: string): Annotation | undefined {
  return annotations.find((a) => a.name === name);
}
