import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SchemaError } from './errors.ts';
import { P4Schema } from './p4-schema.ts';
import { TEST_SCHEMA as schema } from './test-fixtures.ts';

function thrown(f: () => unknown): SchemaError {
  try {
    f();
  } catch (err) {
    if (err instanceof SchemaError) return err;
    throw err;
  }
  throw new Error('expected a SchemaError');
}

describe('P4Schema lookups', () => {
  it('finds a table by full name, alias and id, with its fields, actions and direct counter', () => {
    const fwd = schema.table('MyIngress.fwd');
    expect(schema.table('fwd')).toBe(fwd);
    expect(schema.table(fwd.id)).toBe(fwd);
    expect(fwd.id >>> 24).toBe(0x02);
    expect(fwd.matchFields).toEqual([{ id: 1, name: 'dst', bitwidth: 48, kind: 'exact' }]);
    expect(fwd.matchField(1)).toBe(fwd.matchField('dst'));
    expect(fwd.actions.map((a) => a.action.name)).toEqual(['MyIngress.forward', 'MyIngress.to_cpu', 'MyIngress.drop']);
    expect(fwd.actionRef('forward').action.params).toEqual([{ id: 1, name: 'port', bitwidth: 9 }]);
    expect(fwd.directCounter?.name).toBe('MyIngress.fwd_hits');
    expect(fwd.needsPriority).toBe(false);
    expect(fwd.size).toBe(64n);
  });

  it('knows match kinds and which tables need a priority', () => {
    const acl = schema.table('acl');
    expect(acl.matchFields.map((f) => [f.name, f.kind, f.bitwidth])).toEqual([
      ['src', 'ternary', 48],
      ['etherType', 'range', 16],
      ['in_port', 'optional', 9],
    ]);
    expect(acl.needsPriority).toBe(true);
    expect(schema.table('routes').matchField('dst_prefix').kind).toBe('lpm');
  });

  it('finds counters, direct counters, registers, digests and controller headers', () => {
    expect(schema.counter('port_packets')).toMatchObject({ name: 'MyIngress.port_packets', size: 16, unit: 'both' });
    expect(schema.directCounter('fwd_hits').tableId).toBe(schema.table('fwd').id);
    expect(schema.register('MyIngress.last_length')).toMatchObject({ size: 16, bitwidth: 32 });
    expect(schema.digest('learn_t')).toMatchObject({ isStruct: true, members: [{ name: 'src', bitwidth: 48 }, { name: 'port', bitwidth: 9 }] });
    expect(schema.controllerHeader('packet_out').field('egress_port').bitwidth).toBe(9);
    expect(schema.controllerHeader('packet_in').metadata.map((m) => m.name)).toEqual(['ingress_port', 'pad']);
  });

  it('answers a typo with SCHEMA_UNKNOWN_NAME and a did-you-mean hint', () => {
    const e = thrown(() => schema.table('MyIngress.fwdd'));
    expect(e.code).toBe('SCHEMA_UNKNOWN_NAME');
    expect(e.message).toBe("no table 'MyIngress.fwdd'");
    expect(e.hint).toBe("did you mean 'MyIngress.fwd'?");
    expect(thrown(() => schema.action('forwrd')).hint).toBe("did you mean 'forward'?");
    expect(thrown(() => schema.register('last_lenght')).hint).toBe("did you mean 'last_length'?");
    const field = thrown(() => schema.table('fwd').matchField('dts'));
    expect(field.message).toBe("no match field of MyIngress.fwd 'dts'");
    expect(field.hint).toBe("did you mean 'dst'?");
    expect(field.location?.path).toBe('MyIngress.fwd.dts');
    expect(thrown(() => schema.table('fwd').actionRef('deny')).hint).toBe(undefined);
    expect(thrown(() => schema.table('fwd').actionRef('deny')).message).toBe("no action of table MyIngress.fwd 'deny'");
    expect(thrown(() => schema.counter(0x12000001)).message).toBe('no counter id 301989889 (0x12000001)');
    expect(thrown(() => schema.table('zzzzzzzz')).hint).toBeUndefined();
  });

  it('reads the generated gateway P4Info text and agrees with its bindings', async () => {
    const text = readFileSync(new URL('../../p4out/example/gateway/gateway.p4info.txtpb', import.meta.url), 'utf8');
    const gw = P4Schema.fromText(text);
    const { bindings } = await import('../../p4out/example/gateway/gateway.bindings.ts');
    for (const t of Object.values(bindings.tables)) {
      const info = gw.table(t.alias);
      expect(info.id).toBe(t.id);
      expect(info.name).toBe(t.name);
      for (const f of Object.values(t.matchFields)) expect(info.matchField(f.name)).toMatchObject({ id: f.id, bitwidth: f.bitwidth, kind: f.matchKind.toLowerCase() });
      expect(info.actions.map((a) => a.action.name).sort()).toEqual(Object.keys(t.actions).sort());
    }
    expect(gw.tables.size).toBe(Object.keys(bindings.tables).length);
  });
});
