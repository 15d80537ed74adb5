/**
 * Lexical scopes of the checker: names map to their declarations (several for overloaded
 * extern functions and methods).
 */
import type { Declaration, Param, Span } from './ast.ts';

/** Something a name can refer to. */
export type Entity = Declaration | Param | { readonly kind: 'typeParam'; readonly name: string; readonly span: Span };

export class Scope {
  private readonly names = new Map<string, Entity[]>();
  constructor(readonly parent: Scope | undefined) {}
  declare(name: string, e: Entity): void {
    const list = this.names.get(name);
    if (list === undefined) this.names.set(name, [e]);
    else list.push(e);
  }
  own(name: string): Entity[] | undefined {
    return this.names.get(name);
  }
  lookup(name: string): Entity[] | undefined {
    return this.names.get(name) ?? this.parent?.lookup(name);
  }
  root(): Scope {
    return this.parent === undefined ? this : this.parent.root();
  }
  allNames(): string[] {
    return [...this.names.keys(), ...(this.parent?.allNames() ?? [])];
  }
}

/** Where a statement or expression is checked: what it may do depends on the enclosing block. */
export type Context = { readonly kind: 'action' | 'control' | 'parser' | 'top'; readonly scope: Scope };
