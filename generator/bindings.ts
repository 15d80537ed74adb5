/**
 * Typed TypeScript bindings of a generated program, written with ts-morph from the P4Info our
 * front end derived from the P4 text: one `as const` object with every control-plane object's id,
 * name and shape, and types that make table entries, action calls, digests and packet metadata
 * type-safe in the controller (an unknown table, key field, action or parameter is a compile error).
 */
import {
  IndentationText,
  NewLineKind,
  Project,
  QuoteKind,
  VariableDeclarationKind,
  type CodeBlockWriter,
} from 'ts-morph';
import type { P4Info, TypeInfo, TypeSpec } from '../p4-frontend/index.ts';
import { GenerateError } from './errors.ts';
import type { ProgramRole } from './render.ts';

export interface BindingsOptions {
  readonly role: ProgramRole;
  readonly deployment: string;
  readonly generatorVersion: string;
  /** `sha256:<hex>` of the P4Info text file the bindings describe, so a controller can check the pairing. */
  readonly p4infoDigest: string;
}

/** A JSON-like value the object printer understands. */
type Literal = string | number | boolean | null | readonly Literal[] | { readonly [key: string]: Literal };

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function quote(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function propertyName(key: string): string {
  return IDENTIFIER.test(key) ? key : quote(key);
}

function isRecord(v: Literal): v is { readonly [key: string]: Literal } {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

const isScalar = (v: Literal): boolean => v === null || typeof v !== 'object';
/** Objects of at most this many scalar properties print on one line. */
const INLINE_PROPERTIES = 5;

/** Prints a literal: scalars, arrays of scalars and small flat objects inline, others one item a line. */
function writeLiteral(w: CodeBlockWriter, v: Literal): void {
  if (typeof v === 'string') {
    w.write(quote(v));
  } else if (typeof v === 'number' || typeof v === 'boolean' || v === null) {
    w.write(String(v));
  } else if (Array.isArray(v)) {
    const items = v as readonly Literal[];
    if (items.every(isScalar)) {
      w.write('[');
      items.forEach((x, i) => {
        if (i > 0) w.write(', ');
        writeLiteral(w, x);
      });
      w.write(']');
      return;
    }
    w.write('[').newLine();
    w.indent(() => {
      for (const x of items) {
        writeLiteral(w, x);
        w.write(',').newLine();
      }
    });
    w.write(']');
  } else if (isRecord(v)) {
    const entries = Object.entries(v);
    if (entries.length === 0) {
      w.write('{}');
      return;
    }
    if (entries.length <= INLINE_PROPERTIES && entries.every(([, x]) => isScalar(x))) {
      w.write('{ ');
      entries.forEach(([key, value], i) => {
        if (i > 0) w.write(', ');
        w.write(`${propertyName(key)}: `);
        writeLiteral(w, value);
      });
      w.write(' }');
      return;
    }
    w.write('{').newLine();
    w.indent(() => {
      for (const [key, value] of entries) {
        w.write(`${propertyName(key)}: `);
        writeLiteral(w, value);
        w.write(',').newLine();
      }
    });
    w.write('}');
  }
}

/** Writes `{ readonly a: T; readonly b: U }` over the given members, one a line. */
function writeObjectType(w: CodeBlockWriter, members: readonly (readonly [string, string | ((w: CodeBlockWriter) => void)])[]): void {
  if (members.length === 0) {
    w.write('Record<string, never>');
    return;
  }
  w.write('{').newLine();
  w.indent(() => {
    for (const [name, type] of members) {
      w.write(`readonly ${propertyName(name)}: `);
      if (typeof type === 'string') w.write(type);
      else type(w);
      w.write(';').newLine();
    }
  });
  w.write('}');
}

function union(names: readonly string[]): string {
  return names.length === 0 ? 'never' : names.map(quote).join(' | ');
}

/** The value type of a match field in an entry, by P4Runtime match type. */
const KEY_VALUE_TYPE: Readonly<Record<string, string>> = {
  EXACT: 'bigint',
  LPM: 'LpmMatch',
  TERNARY: 'TernaryMatch',
  RANGE: 'RangeMatch',
  OPTIONAL: 'bigint | undefined',
};

function memberWidth(t: TypeSpec, where: string): number {
  switch (t.kind) {
    case 'bit':
    case 'int':
      return t.bitwidth;
    case 'bool':
      return 1;
    default:
      throw new GenerateError('GENERATE_BINDINGS', `${where}: a ${t.kind} member has no bit width for the bindings`, {
        hint: 'digests and registers in generated programs carry bit<W> values only',
      });
  }
}

function capitalised(role: ProgramRole): string {
  return role[0]!.toUpperCase() + role.slice(1);
}

/** The literal data of the bindings object, in P4Info order. */
function bindingsData(p4info: P4Info, options: BindingsOptions): { [key: string]: Literal } {
  const unsupported = [
    ['direct counters', p4info.directCounters.length],
    ['meters', p4info.meters.length],
    ['direct meters', p4info.directMeters.length],
  ] as const;
  for (const [what, n] of unsupported) {
    if (n > 0) {
      throw new GenerateError('GENERATE_BINDINGS', `the ${options.role} program declares ${what}, which the bindings do not describe`, {
        location: { file: `${options.role}.p4` },
      });
    }
  }
  const actionName = new Map(p4info.actions.map((a) => [a.preamble.id, a.preamble.name]));
  const nameOfAction = (id: number, table: string): string => {
    const name = actionName.get(id);
    if (name === undefined) {
      throw new GenerateError('GENERATE_BINDINGS', `table ${table} refers to action id ${id}, which the P4Info does not list`);
    }
    return name;
  };
  const structs: TypeInfo['structs'] = p4info.typeInfo?.structs ?? new Map();
  return {
    program: options.role,
    deployment: options.deployment,
    generatorVersion: options.generatorVersion,
    p4infoDigest: options.p4infoDigest,
    tables: Object.fromEntries(
      p4info.tables.map((t) => [
        t.preamble.name,
        {
          id: t.preamble.id,
          name: t.preamble.name,
          alias: t.preamble.alias,
          size: t.size,
          matchFields: Object.fromEntries(
            t.matchFields.map((m) => [
              m.name,
              { id: m.id, name: m.name, bitwidth: m.bitwidth, matchKind: m.matchType ?? m.otherMatchType ?? '' },
            ]),
          ),
          actions: Object.fromEntries(
            t.actionRefs.map((r) => [nameOfAction(r.id, t.preamble.name), { id: r.id, scope: r.scope }]),
          ),
          constDefaultAction: t.constDefaultActionId === 0 ? null : nameOfAction(t.constDefaultActionId, t.preamble.name),
        },
      ]),
    ),
    actions: Object.fromEntries(
      p4info.actions.map((a) => [
        a.preamble.name,
        {
          id: a.preamble.id,
          name: a.preamble.name,
          alias: a.preamble.alias,
          params: Object.fromEntries(a.params.map((p) => [p.name, { id: p.id, name: p.name, bitwidth: p.bitwidth }])),
        },
      ]),
    ),
    counters: Object.fromEntries(
      p4info.counters.map((c) => [
        c.preamble.name,
        { id: c.preamble.id, name: c.preamble.name, alias: c.preamble.alias, size: c.size, unit: c.unit },
      ]),
    ),
    registers: Object.fromEntries(
      p4info.registers.map((r) => [
        r.preamble.name,
        {
          id: r.preamble.id,
          name: r.preamble.name,
          alias: r.preamble.alias,
          size: r.size,
          bitwidth: memberWidth(r.typeSpec, `register ${r.preamble.name}`),
        },
      ]),
    ),
    digests: Object.fromEntries(
      p4info.digests.map((d) => {
        if (d.typeSpec.kind !== 'struct') {
          throw new GenerateError('GENERATE_BINDINGS', `digest ${d.preamble.name} does not carry a struct`);
        }
        const members = structs.get(d.typeSpec.name) ?? [];
        return [
          d.preamble.name,
          {
            id: d.preamble.id,
            name: d.preamble.name,
            alias: d.preamble.alias,
            members: members.map((m) => ({ name: m.name, bitwidth: memberWidth(m.typeSpec, `digest ${d.preamble.name}`) })),
          },
        ];
      }),
    ),
    controllerPacketMetadata: Object.fromEntries(
      p4info.controllerPacketMetadata.map((c) => [
        c.preamble.name,
        {
          id: c.preamble.id,
          name: c.preamble.name,
          fields: Object.fromEntries(c.metadata.map((m) => [m.name, { id: m.id, name: m.name, bitwidth: m.bitwidth }])),
        },
      ]),
    ),
  };
}

/** The bindings file's text. Deterministic: same P4Info and options, same bytes. */
export function renderBindings(p4info: P4Info, options: BindingsOptions): string {
  const project = new Project({
    useInMemoryFileSystem: true,
    manipulationSettings: {
      indentationText: IndentationText.TwoSpaces,
      quoteKind: QuoteKind.Single,
      newLineKind: NewLineKind.LineFeed,
    },
  });
  const file = project.createSourceFile(`${options.role}.bindings.ts`, '');
  const P = capitalised(options.role);
  const data = bindingsData(p4info, options);

  file.addStatements([
    `/*`,
    ` * Typed P4Runtime bindings of the ${options.role} program of deployment "${options.deployment}".`,
    ` * Generated by p4lb ${options.generatorVersion} from ${options.role}.p4info.txtpb. Do not edit: change the spec`,
    ` * or the templates and run \`p4lb generate\`.`,
    ` */`,
  ].join('\n'));

  file.addVariableStatement({
    isExported: true,
    declarationKind: VariableDeclarationKind.Const,
    docs: ['Every control-plane object of the program, by its fully qualified P4Info name.'],
    declarations: [
      {
        name: 'bindings',
        initializer: (w) => {
          writeLiteral(w, data);
          w.write(' as const');
        },
      },
    ],
  });

  file.addTypeAlias({ isExported: true, name: `${P}TableName`, type: 'keyof typeof bindings.tables' });
  file.addTypeAlias({ isExported: true, name: `${P}ActionName`, type: 'keyof typeof bindings.actions' });
  file.addTypeAlias({ isExported: true, name: `${P}CounterName`, type: 'keyof typeof bindings.counters' });
  file.addTypeAlias({ isExported: true, name: `${P}RegisterName`, type: 'keyof typeof bindings.registers' });
  file.addTypeAlias({ isExported: true, name: `${P}DigestName`, type: 'keyof typeof bindings.digests' });

  file.addInterface({
    isExported: true,
    name: 'LpmMatch',
    docs: ['An LPM key value: the address and how many leading bits must match.'],
    properties: [
      { name: 'value', type: 'bigint', isReadonly: true },
      { name: 'prefixLength', type: 'number', isReadonly: true },
    ],
  });
  file.addInterface({
    isExported: true,
    name: 'TernaryMatch',
    properties: [
      { name: 'value', type: 'bigint', isReadonly: true },
      { name: 'mask', type: 'bigint', isReadonly: true },
    ],
  });
  file.addInterface({
    isExported: true,
    name: 'RangeMatch',
    properties: [
      { name: 'low', type: 'bigint', isReadonly: true },
      { name: 'high', type: 'bigint', isReadonly: true },
    ],
  });

  const actionNames = new Map(p4info.actions.map((a) => [a.preamble.id, a.preamble.name]));
  file.addTypeAlias({
    isExported: true,
    name: `${P}Tables`,
    docs: [
      'Per table: the key (match field name → value) and the actions an entry (`entryActions`) or the default action (`defaultActions`) may name.',
    ],
    type: (w) =>
      writeObjectType(
        w,
        p4info.tables.map((t) => {
          const scoped = (ok: (scope: string) => boolean): string =>
            union(t.actionRefs.filter((r) => ok(r.scope)).map((r) => actionNames.get(r.id) ?? ''));
          return [
            t.preamble.name,
            (tw: CodeBlockWriter) =>
              writeObjectType(tw, [
                [
                  'key',
                  (kw: CodeBlockWriter) =>
                    writeObjectType(
                      kw,
                      t.matchFields.map((m) => [m.name, KEY_VALUE_TYPE[m.matchType ?? ''] ?? 'bigint'] as const),
                    ),
                ],
                ['entryActions', scoped((s) => s !== 'DEFAULT_ONLY')],
                ['defaultActions', t.constDefaultActionId === 0 ? scoped((s) => s !== 'TABLE_ONLY') : 'never'],
              ]),
          ] as const;
        }),
      ),
  });

  file.addTypeAlias({
    isExported: true,
    name: `${P}Actions`,
    docs: ['Per action: its parameters by name, values as unsigned integers.'],
    type: (w) =>
      writeObjectType(
        w,
        p4info.actions.map(
          (a) =>
            [
              a.preamble.name,
              (aw: CodeBlockWriter) => writeObjectType(aw, a.params.map((p) => [p.name, 'bigint'] as const)),
            ] as const,
        ),
      ),
  });

  file.addTypeAlias({
    isExported: true,
    name: `${P}ActionCall`,
    docs: ['An action with its parameters, e.g. as the action of a table entry.'],
    typeParameters: [{ name: 'A', constraint: `${P}ActionName`, default: `${P}ActionName` }],
    type: `{ [N in A]: { readonly action: N; readonly params: ${P}Actions[N] } }[A]`,
  });

  file.addTypeAlias({
    isExported: true,
    name: `${P}TableEntry`,
    docs: ['A table entry whose key fields and action are checked against the program.'],
    typeParameters: [{ name: 'T', constraint: `${P}TableName`, default: `${P}TableName` }],
    type: `{ [N in T]: { readonly table: N; readonly key: ${P}Tables[N]['key']; readonly action: ${P}ActionCall<${P}Tables[N]['entryActions']>; readonly priority?: number } }[T]`,
  });

  file.addTypeAlias({
    isExported: true,
    name: `${P}DefaultAction`,
    docs: ['A default-action setting; `never` for tables whose default action is const.'],
    typeParameters: [{ name: 'T', constraint: `${P}TableName`, default: `${P}TableName` }],
    type: `{ [N in T]: { readonly table: N; readonly action: ${P}ActionCall<${P}Tables[N]['defaultActions']> } }[T]`,
  });

  file.addTypeAlias({
    isExported: true,
    name: `${P}Digests`,
    docs: ['Per digest: the data it carries, member by member.'],
    type: (w) =>
      writeObjectType(
        w,
        p4info.digests.map((d) => {
          const members = d.typeSpec.kind === 'struct' ? (p4info.typeInfo?.structs.get(d.typeSpec.name) ?? []) : [];
          return [d.preamble.name, (dw: CodeBlockWriter) => writeObjectType(dw, members.map((m) => [m.name, 'bigint'] as const))] as const;
        }),
      ),
  });

  file.addTypeAlias({
    isExported: true,
    name: `${P}PacketMetadata`,
    docs: ['The controller headers (`packet_in`, `packet_out`) and their fields.'],
    type: (w) =>
      writeObjectType(
        w,
        p4info.controllerPacketMetadata.map(
          (c) =>
            [c.preamble.name, (cw: CodeBlockWriter) => writeObjectType(cw, c.metadata.map((m) => [m.name, 'bigint'] as const))] as const,
        ),
      ),
  });

  // The writer indents nested initializers from where they start; the formatter evens that out.
  file.formatText({ indentSize: 2, tabSize: 2, convertTabsToSpaces: true });
  return file.getFullText();
}
