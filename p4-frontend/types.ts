/**
 * Resolved P4 types, as the checker annotates them on expressions and declarations.
 */
import type {
  ControlDecl, EnumDecl, ExternDecl, HeaderDecl, HeaderUnionDecl, ParserDecl, StructDecl, TableDecl,
  BlockTypeDecl,
} from './ast.ts';

export interface FieldType {
  readonly name: string;
  readonly type: P4Type;
}

export type P4Type =
  | { readonly kind: 'bit'; readonly width: number }
  | { readonly kind: 'int'; readonly width: number }
  /** An arbitrary-precision integer: unsized literals and compile-time constants. */
  | { readonly kind: 'infint' }
  | { readonly kind: 'varbit'; readonly width: number }
  | { readonly kind: 'bool' }
  | { readonly kind: 'string' }
  | { readonly kind: 'void' }
  | { readonly kind: 'error' }
  | { readonly kind: 'matchKind' }
  | { readonly kind: 'dontCare' }
  | { readonly kind: 'header'; readonly name: string; readonly fields: readonly FieldType[]; readonly decl: HeaderDecl }
  | { readonly kind: 'headerUnion'; readonly name: string; readonly fields: readonly FieldType[]; readonly decl: HeaderUnionDecl }
  | { readonly kind: 'struct'; readonly name: string; readonly fields: readonly FieldType[]; readonly decl: StructDecl }
  | { readonly kind: 'stack'; readonly element: P4Type; readonly size: number }
  | { readonly kind: 'enum'; readonly name: string; readonly members: readonly string[]; readonly decl: EnumDecl; readonly underlying: P4Type | undefined }
  /** A list expression's type before it meets a struct. */
  | { readonly kind: 'tuple'; readonly elements: readonly P4Type[] }
  | { readonly kind: 'extern'; readonly name: string; readonly decl: ExternDecl; readonly typeArgs: readonly P4Type[] }
  | { readonly kind: 'typeVar'; readonly name: string }
  | { readonly kind: 'parser'; readonly name: string; readonly decl: ParserDecl | BlockTypeDecl; readonly typeArgs: readonly P4Type[] }
  | { readonly kind: 'control'; readonly name: string; readonly decl: ControlDecl | BlockTypeDecl; readonly typeArgs: readonly P4Type[] }
  | { readonly kind: 'package'; readonly name: string; readonly decl: BlockTypeDecl; readonly typeArgs: readonly P4Type[] }
  | { readonly kind: 'table'; readonly decl: TableDecl }
  | { readonly kind: 'action' }
  /** The result of `t.apply()`: `hit`, `miss`, `action_run`. */
  | { readonly kind: 'applyResult'; readonly table: TableDecl }
  /** `t.apply().action_run`: compared with the table's action names in a switch. */
  | { readonly kind: 'actionEnum'; readonly table: TableDecl }
  /** A type used as a value (`HashAlgorithm` before `.crc32`, `error`). */
  | { readonly kind: 'typeName'; readonly type: P4Type }
  | { readonly kind: 'state' };

export const BOOL: P4Type = { kind: 'bool' };
export const INFINT: P4Type = { kind: 'infint' };
export const VOID: P4Type = { kind: 'void' };
export const ERROR: P4Type = { kind: 'error' };
export const STRING: P4Type = { kind: 'string' };

export function bit(width: number): P4Type {
  return { kind: 'bit', width };
}

/** As P4 writes it: `bit<16>`, `int`, `header ethernet_t`. */
export function typeToString(t: P4Type): string {
  switch (t.kind) {
    case 'bit': return `bit<${t.width}>`;
    case 'int': return `int<${t.width}>`;
    case 'infint': return 'int';
    case 'varbit': return `varbit<${t.width}>`;
    case 'bool': case 'string': case 'void': case 'error': return t.kind;
    case 'matchKind': return 'match_kind';
    case 'dontCare': return '_';
    case 'header': return `header ${t.name}`;
    case 'headerUnion': return `header_union ${t.name}`;
    case 'struct': return `struct ${t.name}`;
    case 'stack': return `${typeToString(t.element)}[${t.size}]`;
    case 'enum': return `enum ${t.name}`;
    case 'tuple': return `tuple<${t.elements.map(typeToString).join(', ')}>`;
    case 'extern': case 'parser': case 'control': case 'package':
      return t.typeArgs.length === 0 ? t.name : `${t.name}<${t.typeArgs.map(typeToString).join(', ')}>`;
    case 'typeVar': return t.name;
    case 'table': return `table ${t.decl.name}`;
    case 'action': return 'action';
    case 'applyResult': return `apply result of table ${t.table.name}`;
    case 'actionEnum': return `action_list(${t.table.name})`;
    case 'typeName': return `type ${typeToString(t.type)}`;
    case 'state': return 'state';
  }
}

export function sameType(a: P4Type, b: P4Type): boolean {
  if (a.kind !== b.kind) return false;
  switch (a.kind) {
    case 'bit': case 'int': case 'varbit': return a.width === (b as typeof a).width;
    case 'header': case 'headerUnion': case 'struct': case 'enum': return a.decl === (b as typeof a).decl;
    case 'stack': return a.size === (b as typeof a).size && sameType(a.element, (b as typeof a).element);
    case 'tuple': {
      const be = (b as typeof a).elements;
      return a.elements.length === be.length && a.elements.every((e, i) => sameType(e, be[i]!));
    }
    case 'extern': case 'parser': case 'control': case 'package': {
      const bb = b as typeof a;
      return a.decl === bb.decl && a.typeArgs.length === bb.typeArgs.length && a.typeArgs.every((x, i) => sameType(x, bb.typeArgs[i]!));
    }
    case 'typeVar': return a.name === (b as typeof a).name;
    case 'table': return a.decl === (b as typeof a).decl;
    case 'applyResult': return a.table === (b as typeof a).table;
    case 'actionEnum': return a.table === (b as typeof a).table;
    default: return true;
  }
}

/** Width in bits of a type that has a fixed-size wire form, else undefined. */
export function widthOf(t: P4Type): number | undefined {
  switch (t.kind) {
    case 'bit': case 'int': return t.width;
    case 'bool': return 1;
    case 'enum': return t.underlying === undefined ? undefined : widthOf(t.underlying);
    case 'header': case 'struct': {
      let w = 0;
      for (const f of t.fields) {
        const fw = widthOf(f.type);
        if (fw === undefined) return undefined;
        w += fw;
      }
      return w;
    }
    default: return undefined;
  }
}

export function isInteger(t: P4Type): t is { kind: 'bit'; width: number } | { kind: 'int'; width: number } | { kind: 'infint' } {
  return t.kind === 'bit' || t.kind === 'int' || t.kind === 'infint';
}

export function fieldsOf(t: P4Type): readonly FieldType[] | undefined {
  return t.kind === 'header' || t.kind === 'struct' || t.kind === 'headerUnion' ? t.fields : undefined;
}
