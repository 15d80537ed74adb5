/**
 * Structural checks of the generated programs, made on what our front end parses from the P4
 * text: ids unique, fixed by generator/ids.ts and stable; P4Info complete and consistent; and the
 * flow-key hash inputs in the order and widths core/hash/flow-key.ts defines.
 */
import { describe, expect, it } from 'vitest';
import { FLOW_KEY_CODES } from '../core/p4-contract.ts';
import { FLOW_KEY_FIELDS, FLOW_KEY_KINDS, FLOW_STATE_SALT_WIDTH, type FlowKeyKind } from '../core/hash/flow-key.ts';
import {
  ID_PREFIX,
  jenkinsOneAtATime,
  keyExpressionText,
  widthOf,
  type ActionDecl,
  type CallExpr,
  type ControlDecl,
  type Expression,
  type P4Info,
  type Statement,
} from '../p4-frontend/index.ts';
import { editedExample, generatedExample } from './fixtures.ts';
import { generateDeployment, PROGRAM_ROLES, type GeneratedProgram } from './generate.ts';
import { GATEWAY_IDS, HOST_IDS } from './ids.ts';
import type { ProgramRole } from './render.ts';
import { FLOW_KEY_P4_FIELDS } from './view-model.ts';

const CONTROL: Readonly<Record<ProgramRole, string>> = { gateway: 'GatewayIngress', host: 'HostIngress' };
const FIXED_IDS: Readonly<Record<ProgramRole, typeof GATEWAY_IDS | typeof HOST_IDS>> = { gateway: GATEWAY_IDS, host: HOST_IDS };

/** `hashFlow5Tuple` and `hash_flow_5_tuple` → `hashflow5tuple`: ids.ts keys are the P4 names in camel case. */
function loose(name: string): string {
  return name.replace(/_/g, '').toLowerCase();
}

interface IdEntry {
  readonly kind: keyof typeof ID_PREFIX;
  readonly name: string;
  readonly id: number;
}

function allIds(p4info: P4Info): IdEntry[] {
  return [
    ...p4info.tables.map((t) => ({ kind: 'table' as const, name: t.preamble.name, id: t.preamble.id })),
    ...p4info.actions.map((a) => ({ kind: 'action' as const, name: a.preamble.name, id: a.preamble.id })),
    ...p4info.counters.map((c) => ({ kind: 'counter' as const, name: c.preamble.name, id: c.preamble.id })),
    ...p4info.registers.map((r) => ({ kind: 'register' as const, name: r.preamble.name, id: r.preamble.id })),
    ...p4info.digests.map((d) => ({ kind: 'digest' as const, name: d.preamble.name, id: d.preamble.id })),
    ...p4info.controllerPacketMetadata.map((c) => ({ kind: 'controllerHeader' as const, name: c.preamble.name, id: c.preamble.id })),
  ];
}

function ingress(program: GeneratedProgram): ControlDecl {
  const name = CONTROL[program.role];
  const control = program.checked.program.declarations.find((d): d is ControlDecl => d.kind === 'control' && d.name === name);
  if (control === undefined) throw new Error(`${program.role}.p4 has no control ${name}`);
  return control;
}

/** Every statement of a block, nested ones included, in source order. */
function statementsIn(stmts: readonly Statement[]): Statement[] {
  return stmts.flatMap((s): Statement[] => {
    switch (s.kind) {
      case 'block':
        return [s, ...statementsIn(s.statements)];
      case 'if':
        return [s, ...statementsIn([s.then]), ...(s.else === undefined ? [] : statementsIn([s.else]))];
      default:
        return [s];
    }
  });
}

describe.each(PROGRAM_ROLES)('the %s program', (role) => {
  const program = (): GeneratedProgram => generatedExample().programs[role];

  it('gives every control-plane object a unique id with its kind\'s P4Runtime prefix', () => {
    const ids = allIds(program().p4info);
    expect(new Set(ids.map((e) => e.id)).size).toBe(ids.length);
    for (const e of ids) expect(e.id >>> 24, `${e.kind} ${e.name}`).toBe(ID_PREFIX[e.kind]);
  });

  it('takes the ids of tables, actions, counters and registers from generator/ids.ts', () => {
    const ids = allIds(program().p4info);
    const fixed = FIXED_IDS[role];
    const groups = [
      ['table', fixed.tables],
      ['action', fixed.actions],
      ['counter', fixed.counters],
      ['register', 'registers' in fixed ? fixed.registers : {}],
    ] as const;
    for (const [kind, table] of groups) {
      const expected = Object.entries(table)
        .map(([key, n]) => ({ kind, name: loose(`${CONTROL[role]}.${key}`), id: ((ID_PREFIX[kind] << 24) | n) >>> 0 }))
        .sort((a, b) => a.id - b.id);
      // NoAction is core.p4's: its id comes from its name, as for every object without @id.
      const actual = ids
        .filter((e) => e.kind === kind && e.name !== 'NoAction')
        .map((e) => ({ ...e, name: loose(e.name) }))
        .sort((a, b) => a.id - b.id);
      expect(actual).toEqual(expected);
    }
  });

  it('gives objects without @id (digests, controller headers, NoAction) p4c\'s name-hash ids', () => {
    for (const e of allIds(program().p4info).filter((x) => x.kind === 'digest' || x.kind === 'controllerHeader' || x.name === 'NoAction')) {
      // p4c keys a controller header by its type's name (packet_in_h), not the annotation's.
      const hashed = e.kind === 'controllerHeader' ? `${e.name}_h` : e.name;
      expect(e.id, e.name).toBe(((ID_PREFIX[e.kind] << 24) | (jenkinsOneAtATime(hashed) & 0xffffff)) >>> 0);
    }
  });

  it('keeps every id when the spec changes', () => {
    // Another CPU port (both programs), VM and flow-state sizes.
    const other = generateDeployment(
      editedExample(
        ['ports: { public: 1, underlay: 2, cpu: 255 }', 'ports: { public: 1, underlay: 2, cpu: 200 }'],
        ['ports: { public: 1, underlay: 2 }\n', 'ports: { public: 1, underlay: 2, cpu: 200 }\n'],
        ['flowState: { slotsPerGateway: 65536 }', 'flowState: { slotsPerGateway: 4096 }'],
      ),
    ).programs[role];
    expect(other.p4).not.toBe(program().p4);
    expect(allIds(other.p4info)).toEqual(allIds(program().p4info));
  });

  it('refers only to actions the P4Info lists, with their parameters', () => {
    const { p4info } = program();
    const actions = new Map(p4info.actions.map((a) => [a.preamble.id, a]));
    for (const t of p4info.tables) {
      for (const ref of t.actionRefs) expect(actions.has(ref.id), `${t.preamble.name} → ${ref.id}`).toBe(true);
      if (t.constDefaultActionId !== 0) expect(actions.has(t.constDefaultActionId)).toBe(true);
      const init = t.initialDefaultAction;
      if (init !== undefined) {
        const action = actions.get(init.actionId);
        expect(action, t.preamble.name).toBeDefined();
        expect(init.arguments.map((a) => a.paramId)).toEqual(action!.params.map((p) => p.id));
      }
    }
  });

  it('lists exactly the tables, actions, counters and registers the P4 program declares', () => {
    const control = ingress(program());
    const { p4info } = program();
    const declared = (kind: 'table' | 'action'): string[] =>
      control.locals.filter((l) => l.kind === kind).map((l) => `${control.name}.${l.name}`).sort();
    const instances = (type: string): string[] =>
      control.locals
        .filter((l) => l.kind === 'instantiation' && l.typeRef.kind === 'namedType' && l.typeRef.name === type)
        .map((l) => `${control.name}.${l.name}`)
        .sort();
    const names = (list: readonly { preamble: { name: string } }[]): string[] => list.map((x) => x.preamble.name).sort();
    expect(names(p4info.tables)).toEqual(declared('table'));
    expect(names(p4info.actions)).toEqual(['NoAction', ...declared('action')].sort());
    expect(names(p4info.counters)).toEqual(instances('counter'));
    expect(names(p4info.registers)).toEqual(instances('register'));
    // The other controls of the pipeline hold no control-plane objects.
    for (const block of program().checked.pipeline) {
      if (block.decl.kind !== 'control' || block.decl === control) continue;
      expect(block.decl.locals.filter((l) => l.kind !== 'var' && l.kind !== 'const'), block.decl.name).toEqual([]);
    }
  });

  it('declares the controller headers packet_in and packet_out with a 9-bit port', () => {
    const metadata = program().p4info.controllerPacketMetadata;
    expect(metadata.map((m) => [m.preamble.name, m.metadata.map((f) => [f.name, f.bitwidth])])).toEqual([
      ['packet_in', [['ingress_port', 9], ['_pad', 7]]],
      ['packet_out', [['egress_port', 9], ['_pad', 7]]],
    ]);
  });
});

describe('the gateway\'s flow-key hashes', () => {
  /**
   * Per flow-key kind, the hash() calls of the action the ingress runs for it: `if (meta.flow_key
   * == FLOW_KEY_5_TUPLE) { hash_flow_5_tuple(); }` in the apply block, then that action's body.
   */
  function hashCallsByKind(): Map<FlowKeyKind, CallExpr[]> {
    const control = ingress(generatedExample().programs.gateway);
    const byConst = new Map(FLOW_KEY_KINDS.map((k) => [FLOW_KEY_CODES[k].constName, k]));
    const result = new Map<FlowKeyKind, CallExpr[]>();
    for (const s of statementsIn(control.apply.statements)) {
      if (s.kind !== 'if' || s.cond.kind !== 'binary' || s.cond.op !== '==') continue;
      if (keyExpressionText(s.cond.left) !== 'meta.flow_key' || s.cond.right.kind !== 'name') continue;
      const kind = byConst.get(s.cond.right.name);
      if (kind === undefined) throw new Error(`unknown flow-key constant ${s.cond.right.name}`);
      expect(result.has(kind), `${kind} hashed twice`).toBe(false);
      const actions = statementsIn([s.then]).flatMap((x): ActionDecl[] =>
        x.kind === 'callStmt' && x.call.target?.kind === 'action' ? [x.call.target.decl] : [],
      );
      expect(actions, `the ${kind} branch runs one action`).toHaveLength(1);
      const calls = statementsIn(actions[0]!.body.statements).flatMap((x) =>
        x.kind === 'callStmt' && x.call.callee.kind === 'name' && x.call.callee.name === 'hash' ? [x.call] : [],
      );
      result.set(kind, calls);
    }
    return result;
  }

  const dataOf = (call: CallExpr): readonly Expression[] => {
    const data = call.args[3];
    if (data?.kind !== 'list') throw new Error('hash() data is not a list');
    return data.elements;
  };

  it('hash every flow-key kind of core, each with four hash() calls', () => {
    const byKind = hashCallsByKind();
    expect([...byKind.keys()].sort()).toEqual([...FLOW_KEY_KINDS].sort());
    for (const calls of byKind.values()) expect(calls).toHaveLength(4);
  });

  it('take the fields of core/hash/flow-key.ts FLOW_KEY_FIELDS, in its order and widths', () => {
    const p4ToCore = new Map(Object.entries(FLOW_KEY_P4_FIELDS).map(([core, p4]) => [p4, core]));
    for (const [kind, calls] of hashCallsByKind()) {
      const expected = FLOW_KEY_FIELDS[kind].map((f) => [f.name, f.width]);
      for (const call of calls) {
        const target = keyExpressionText(call.args[0]!);
        let data = dataOf(call);
        if (target === 'meta.way1_index') {
          // The second flow-state way hashes the key after an 8-bit salt byte (core FLOW_STATE_WAY1_SALT).
          expect(keyExpressionText(data[0]!)).toBe('FLOW_WAY1_SALT');
          expect(widthOf(data[0]!.type!)).toBe(FLOW_STATE_SALT_WIDTH);
          data = data.slice(1);
        }
        const actual = data.map((e) => [p4ToCore.get(keyExpressionText(e)) ?? keyExpressionText(e), widthOf(e.type!)]);
        expect(actual, `${kind} ${target}`).toEqual(expected);
      }
    }
  });
});
