/**
 * P4Info in protobuf text format, as p4c's `--p4runtime-files x.p4info.txtpb` writes it: fields in
 * field-number order, proto3 defaults (0, "", false, first enum value) left out, two-space
 * indentation, map entries sorted by key.
 */
import { byCodeUnit } from '../core/order.ts';
import type { P4Info, Preamble, TypeSpec } from './p4info.ts';

/** A text-format message: an ordered list of fields. */
type Field = readonly [name: string, value: Value];
type Value = string | number | boolean | { readonly enumValue: string } | { readonly bytes: Uint8Array } | readonly Field[];

const str = (s: string): Value => s;
const en = (v: string): Value => ({ enumValue: v });

function preamble(p: Preamble): Field[] {
  return [['id', p.id], ['name', str(p.name)], ['alias', str(p.alias)], ...p.annotations.map((a): Field => ['annotations', str(a)])];
}

function typeSpec(t: TypeSpec): Field[] {
  switch (t.kind) {
    case 'bit': return [['bitstring', [['bit', [['bitwidth', t.bitwidth]]]]]];
    case 'int': return [['bitstring', [['int', [['bitwidth', t.bitwidth]]]]]];
    case 'bool': return [['bool', []]];
    case 'error': return [['error', []]];
    case 'struct': return [['struct', [['name', str(t.name)]]]];
    case 'header': return [['header', [['name', str(t.name)]]]];
    case 'enum': return [['enum', [['name', str(t.name)]]]];
    case 'tuple': return [['tuple', t.members.map((m): Field => ['members', typeSpec(m)])]];
  }
}

function sortedKeys<V>(m: ReadonlyMap<string, V>): string[] {
  return [...m.keys()].sort(byCodeUnit);
}

/** Builds the field tree of a P4Info message in p4info.proto's field order. */
function toFields(info: P4Info): Field[] {
  const out: Field[] = info.pkgInfo === undefined ? [] : [['pkg_info', [['arch', str(info.pkgInfo.arch)]]]];
  for (const t of info.tables) {
    const f: Field[] = [['preamble', preamble(t.preamble)]];
    for (const m of t.matchFields) {
      const mf: Field[] = [['id', m.id], ['name', str(m.name)], ...m.annotations.map((a): Field => ['annotations', str(a)]), ['bitwidth', m.bitwidth]];
      if (m.matchType !== undefined) mf.push(['match_type', en(m.matchType)]);
      else if (m.otherMatchType !== undefined) mf.push(['other_match_type', str(m.otherMatchType)]);
      f.push(['match_fields', mf]);
    }
    for (const a of t.actionRefs) {
      const af: Field[] = [['id', a.id], ...a.annotations.map((x): Field => ['annotations', str(x)])];
      if (a.scope !== 'TABLE_AND_DEFAULT') af.push(['scope', en(a.scope)]);
      f.push(['action_refs', af]);
    }
    f.push(['const_default_action_id', t.constDefaultActionId]);
    const init = t.initialDefaultAction;
    if (init !== undefined) {
      const args = init.arguments.map((a): Field => ['arguments', [['param_id', a.paramId], ['value', { bytes: a.value }]]]);
      f.push(['initial_default_action', [['action_id', init.actionId], ...args]]);
    }
    for (const d of t.directResourceIds) f.push(['direct_resource_ids', d]);
    f.push(['size', t.size]);
    f.push(['is_const_table', t.isConstTable]);
    f.push(['has_initial_entries', t.hasInitialEntries]);
    out.push(['tables', f]);
  }
  for (const a of info.actions) {
    const f: Field[] = [['preamble', preamble(a.preamble)]];
    for (const p of a.params) {
      f.push(['params', [['id', p.id], ['name', str(p.name)], ...p.annotations.map((x): Field => ['annotations', str(x)]), ['bitwidth', p.bitwidth]]]);
    }
    out.push(['actions', f]);
  }
  for (const c of info.counters) out.push(['counters', [['preamble', preamble(c.preamble)], ['spec', [['unit', en(c.unit)]]], ['size', c.size]]]);
  for (const c of info.directCounters) {
    out.push(['direct_counters', [['preamble', preamble(c.preamble)], ['spec', [['unit', en(c.unit)]]], ['direct_table_id', c.directTableId]]]);
  }
  for (const m of info.meters) out.push(['meters', [['preamble', preamble(m.preamble)], ['spec', [['unit', en(m.unit)]]], ['size', m.size]]]);
  for (const m of info.directMeters) {
    out.push(['direct_meters', [['preamble', preamble(m.preamble)], ['spec', [['unit', en(m.unit)]]], ['direct_table_id', m.directTableId]]]);
  }
  for (const c of info.controllerPacketMetadata) {
    const f: Field[] = [['preamble', preamble(c.preamble)]];
    for (const m of c.metadata) {
      f.push(['metadata', [['id', m.id], ['name', str(m.name)], ...m.annotations.map((x): Field => ['annotations', str(x)]), ['bitwidth', m.bitwidth]]]);
    }
    out.push(['controller_packet_metadata', f]);
  }
  for (const r of info.registers) out.push(['registers', [['preamble', preamble(r.preamble)], ['type_spec', typeSpec(r.typeSpec)], ['size', r.size]]]);
  for (const d of info.digests) out.push(['digests', [['preamble', preamble(d.preamble)], ['type_spec', typeSpec(d.typeSpec)]]]);

  const ti = info.typeInfo;
  if (ti === undefined) return out;
  const typeInfo: Field[] = [];
  for (const k of sortedKeys(ti.structs)) {
    const members = ti.structs.get(k)!.map((m): Field => ['members', [['name', str(m.name)], ['type_spec', typeSpec(m.typeSpec)]]]);
    typeInfo.push(['structs', [['key', str(k)], ['value', members]]]);
  }
  for (const k of sortedKeys(ti.headers)) {
    const members = ti.headers.get(k)!.map((m): Field => [
      'members', [['name', str(m.name)], ['type_spec', [[m.signed ? 'int' : 'bit', [['bitwidth', m.bitwidth]]]]]],
    ]);
    typeInfo.push(['headers', [['key', str(k)], ['value', members]]]);
  }
  for (const k of sortedKeys(ti.enums)) {
    const members = ti.enums.get(k)!.map((m): Field => ['members', [['name', str(m)]]]);
    typeInfo.push(['enums', [['key', str(k)], ['value', members]]]);
  }
  if (ti.errors !== undefined) typeInfo.push(['error', ti.errors.map((m): Field => ['members', str(m)])]);
  out.push(['type_info', typeInfo]);
  return out;
}

/** Protobuf's C-style escaping for text-format strings (octal for bytes outside printable ASCII). */
export function escapeText(s: string | Uint8Array): string {
  let out = '';
  for (const byte of typeof s === 'string' ? new TextEncoder().encode(s) : s) {
    if (byte === 0x0a) out += '\\n';
    else if (byte === 0x0d) out += '\\r';
    else if (byte === 0x09) out += '\\t';
    else if (byte === 0x22) out += '\\"';
    else if (byte === 0x27) out += "\\'";
    else if (byte === 0x5c) out += '\\\\';
    else if (byte < 0x20 || byte >= 0x7f) out += `\\${byte.toString(8).padStart(3, '0')}`;
    else out += String.fromCharCode(byte);
  }
  return out;
}

function isDefault(v: Value): boolean {
  return v === 0 || v === false || v === '';
}

function print(fields: readonly Field[], indent: string, lines: string[]): void {
  for (const [name, v] of fields) {
    if (Array.isArray(v)) {
      lines.push(`${indent}${name} {`);
      print(v as readonly Field[], `${indent}  `, lines);
      lines.push(`${indent}}`);
    } else if (isDefault(v as Value)) {
      continue;
    } else if (typeof v === 'string') {
      lines.push(`${indent}${name}: "${escapeText(v)}"`);
    } else if (typeof v === 'number' || typeof v === 'boolean') {
      lines.push(`${indent}${name}: ${String(v)}`);
    } else if ('bytes' in (v as object)) {
      lines.push(`${indent}${name}: "${escapeText((v as { bytes: Uint8Array }).bytes)}"`);
    } else {
      lines.push(`${indent}${name}: ${(v as { enumValue: string }).enumValue}`);
    }
  }
}

/** The P4Info as p4c writes `*.p4info.txtpb` (with its two header comment lines). */
export function formatP4InfoText(info: P4Info): string {
  const lines = ['# proto-file: p4/config/v1/p4info.proto', '# proto-message: p4.config.v1.P4Info', ''];
  print(toFields(info), '', lines);
  return `${lines.join('\n')}\n`;
}
