import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { clone, toBinary } from '@bufbuild/protobuf';
import * as p4v1 from '../../core/p4runtime/gen/p4/v1/p4runtime_pb.ts';
import {
  decodeCounterEntry,
  decodeDigestList,
  decodeDirectCounterEntry,
  decodePacketIn,
  decodePacketOut,
  decodeRegisterEntry,
  decodeTableEntry,
  encodeCounterEntry,
  encodeDigestList,
  encodeDirectCounterEntry,
  encodePacketIn,
  encodePacketOut,
  encodeRegisterEntry,
  encodeTableEntry,
  normalizeTableEntry,
  type TableEntryValue,
} from './codec.ts';
import { decodeUpdate, encodeUpdate, insertEntry, deleteEntry } from './entities.ts';
import { SchemaError } from './errors.ts';
import { TEST_SCHEMA as schema } from './test-fixtures.ts';

const bits = (w: number) => fc.bigInt({ min: 0n, max: (1n << BigInt(w)) - 1n });
const mask48 = (1n << 48n) - 1n;

function thrown(f: () => unknown): SchemaError {
  try {
    f();
  } catch (err) {
    if (err instanceof SchemaError) return err;
    throw err;
  }
  throw new Error('expected a SchemaError');
}

const fwdEntry = fc.record({ dst: bits(48), port: bits(9), action: fc.constantFrom('MyIngress.forward', 'MyIngress.to_cpu', 'MyIngress.drop') }).map(
  ({ dst, port, action }): TableEntryValue<bigint> => ({ table: 'MyIngress.fwd', match: { dst }, action, params: action === 'MyIngress.forward' ? { port } : {} }),
);

/** acl entries in normal form: don't-care fields left out, masked values inside their masks. */
const aclEntry = fc
  .record({
    src: fc.option(fc.tuple(bits(48), bits(48).filter((m) => m !== 0n)), { nil: undefined }),
    range: fc.option(fc.tuple(bits(16), bits(16)), { nil: undefined }),
    inPort: fc.option(bits(9), { nil: undefined }),
    priority: fc.integer({ min: 1, max: 0x7fffffff }),
  })
  .map(({ src, range, inPort, priority }): TableEntryValue<bigint> => {
    const match: Record<string, unknown> = {};
    if (src !== undefined) match.src = { value: src[0] & src[1], mask: src[1] };
    if (range !== undefined) {
      const [a, b] = range[0] <= range[1] ? range : [range[1], range[0]];
      if (!(a === 0n && b === 0xffffn)) match.etherType = { low: a, high: b };
    }
    if (inPort !== undefined) match.in_port = inPort;
    return { table: 'MyIngress.acl', match: match as TableEntryValue<bigint>['match'], action: 'MyIngress.deny', params: {}, priority };
  });

const routeEntry = fc.record({ v: bits(48), len: fc.integer({ min: 1, max: 48 }), port: bits(9) }).map(
  ({ v, len, port }): TableEntryValue<bigint> => ({
    table: 'MyIngress.routes',
    match: { dst_prefix: { value: v & (mask48 ^ ((1n << BigInt(48 - len)) - 1n)), prefixLength: len } },
    action: 'MyIngress.forward',
    params: { port },
  }),
);

describe('normalizeTableEntry', () => {
  const roundTrip = (v: TableEntryValue) => decodeTableEntry(schema, encodeTableEntry(schema, v));
  const outcome = (f: () => unknown) => {
    try {
      return { value: f() };
    } catch (err) {
      return { error: err instanceof SchemaError ? [err.code, err.message] : String(err) };
    }
  };

  it('gives what an encode and a decode give, spellings, aliases and mistakes included', () => {
    const spellings = (x: bigint) => fc.constantFrom<bigint | number | string>(x, Number(x), `0x${x.toString(16)}`, x.toString());
    const exact = fc.record({ table: fc.constantFrom('MyIngress.fwd', 'fwd'), dst: bits(48).chain(spellings), port: bits(9).chain(spellings), action: fc.constantFrom('MyIngress.forward', 'forward', 'MyIngress.drop', 'MyIngress.forwrd') }).map(
      ({ table, dst, port, action }): TableEntryValue => ({ table, match: { dst }, action, params: { port } }),
    );
    const odd = fc.constantFrom<TableEntryValue>(
      { table: 'MyIngress.fwd', match: { dst: 1 }, action: 'MyIngress.forward', params: {} },
      { table: 'MyIngress.fwd', match: { dst: 1, x: 2 }, action: 'MyIngress.forward', params: { port: 1 } },
      { table: 'MyIngress.fwd', match: { dst: 1 << 20 }, action: 'MyIngress.forward', params: { port: 1 << 12 } },
      { table: 'MyIngress.fwd', match: {}, action: 'MyIngress.forward', params: { port: 1 } },
      { table: 'MyIngress.fwd', match: { dst: 1 }, action: 'MyIngress.forward', params: { port: 1 }, priority: 3 },
      { table: 'MyIngress.fwd', isDefaultAction: true, action: 'MyIngress.drop' },
    );
    fc.assert(
      fc.property(fc.oneof(exact, odd, fwdEntry, aclEntry, routeEntry), (v) => {
        expect(outcome(() => normalizeTableEntry(schema, v))).toEqual(outcome(() => roundTrip(v)));
      }),
      { numRuns: 300 },
    );
  });
});

describe('table entry messages', () => {
  it('built as literals, have the shape create() gives them (every field, nothing more)', () => {
    fc.assert(
      fc.property(fc.oneof(fwdEntry, aclEntry, routeEntry), fc.constantFrom('insert' as const, 'modify' as const, 'delete' as const), (v, type) => {
        const entry = encodeTableEntry(schema, v);
        expect(entry).toStrictEqual(clone(p4v1.TableEntrySchema, entry));
        const update = encodeUpdate(schema, { type, entity: { kind: 'tableEntry', value: v } });
        expect(update).toStrictEqual(clone(p4v1.UpdateSchema, update));
      }),
      { numRuns: 100 },
    );
    const defaultEntry = encodeTableEntry(schema, { table: 'MyIngress.fwd', isDefaultAction: true, action: 'MyIngress.drop' });
    expect(defaultEntry).toStrictEqual(clone(p4v1.TableEntrySchema, defaultEntry));
  });
});

describe('table entries', () => {
  it('round-trip through encode/decode for exact, ternary, range, optional and lpm tables', () => {
    fc.assert(
      fc.property(fc.oneof(fwdEntry, aclEntry, routeEntry), (v) => {
        const wire = encodeTableEntry(schema, v);
        expect(decodeTableEntry(schema, wire)).toEqual(v);
        // And through the wire format.
        const again = encodeTableEntry(schema, decodeTableEntry(schema, wire));
        expect(toBinary(p4v1.TableEntrySchema, again)).toEqual(toBinary(p4v1.TableEntrySchema, wire));
      }),
      { numRuns: 300 },
    );
  });

  it('writes canonical bytes with ids from the P4Info', () => {
    const e = encodeTableEntry(schema, { table: 'fwd', match: { dst: '00:00:00:00:01:02' }, action: 'forward', params: { port: 3 } });
    expect(e.tableId).toBe(schema.table('fwd').id);
    const m = e.match[0]!.fieldMatchType;
    expect(m.case === 'exact' && [...m.value.value]).toEqual([0x01, 0x02]);
    const a = e.action?.type;
    expect(a?.case === 'action' && a.value.actionId).toBe(schema.action('forward').id);
    expect(a?.case === 'action' && [...a.value.params[0]!.value]).toEqual([3]);
  });

  it('leaves don\'t-care matches out and accepts the short forms', () => {
    const e = encodeTableEntry(schema, {
      table: 'acl',
      match: { src: { value: 0, mask: 0 }, etherType: { low: 0, high: 0xffff }, in_port: 2 },
      action: 'deny',
      priority: 10,
    });
    expect(e.match.map((m) => m.fieldId)).toEqual([3]);
    const route = decodeTableEntry(schema, encodeTableEntry(schema, { table: 'routes', match: { dst_prefix: 5 }, action: 'forward', params: { port: 1 } }));
    expect(route.match).toEqual({ dst_prefix: { value: 5n, prefixLength: 48 } });
  });

  it('names the field of a value that does not fit its width', () => {
    const e = thrown(() => encodeTableEntry(schema, { table: 'fwd', match: { dst: 1n << 48n }, action: 'drop' }));
    expect(e.code).toBe('SCHEMA_BAD_VALUE');
    expect(e.location?.path).toBe('MyIngress.fwd.dst');
    expect(e.message).toBe('MyIngress.fwd.dst: 281474976710656 does not fit in bit<48>');
    const p = thrown(() => encodeTableEntry(schema, { table: 'fwd', match: { dst: 1 }, action: 'forward', params: { port: 512 } }));
    expect(p.location?.path).toBe('MyIngress.forward.port');
    expect(thrown(() => encodeTableEntry(schema, { table: 'fwd', match: { dst: 'ten' }, action: 'drop' })).code).toBe('SCHEMA_BAD_VALUE');
    expect(thrown(() => encodeTableEntry(schema, { table: 'fwd', match: { dst: -1 }, action: 'drop' })).message).toMatch(/negative/);
    expect(thrown(() => encodeTableEntry(schema, { table: 'acl', match: { src: { value: 3, mask: 1 } }, action: 'deny', priority: 1 })).hint).toBe('use 0x1');
    expect(thrown(() => encodeTableEntry(schema, { table: 'routes', match: { dst_prefix: { value: 1, prefixLength: 8 } }, action: 'NoAction' })).message).toMatch(/bits set past \/8/);
  });

  it('refuses entries the table cannot hold', () => {
    expect(thrown(() => encodeTableEntry(schema, { table: 'fwd', match: {}, action: 'drop' })).message).toBe(
      "MyIngress.fwd.dst: exact match field 'dst' (bit<48>) is missing",
    );
    expect(thrown(() => encodeTableEntry(schema, { table: 'fwd', match: { dts: 1 }, action: 'drop' })).hint).toBe("did you mean 'dst'?");
    expect(thrown(() => encodeTableEntry(schema, { table: 'fwd', match: { dst: 1 }, action: 'forward', params: {} })).message).toMatch(/needs parameter 'port'/);
    expect(thrown(() => encodeTableEntry(schema, { table: 'fwd', match: { dst: 1 }, action: 'forward', params: { prot: 1 } })).hint).toBe("did you mean 'port'?");
    expect(thrown(() => encodeTableEntry(schema, { table: 'fwd', match: { dst: 1 }, action: 'deny' })).code).toBe('SCHEMA_UNKNOWN_NAME');
    expect(thrown(() => encodeTableEntry(schema, { table: 'fwd', match: { dst: 1 }, action: 'drop', priority: 3 })).message).toMatch(/take no priority/);
    expect(thrown(() => encodeTableEntry(schema, { table: 'acl', match: {}, action: 'deny' })).message).toMatch(/need a priority/);
    expect(thrown(() => encodeTableEntry(schema, { table: 'fwd', match: { dst: { value: 1, mask: 1 } }, action: 'drop' })).message).toMatch(/is exact/);
    expect(thrown(() => encodeTableEntry(schema, { table: 'fwd', match: { dst: 1 } })).message).toMatch(/has no action/);
  });

  it('encodes default entries and key-only deletes', () => {
    const d = encodeTableEntry(schema, { table: 'fwd', isDefaultAction: true, action: 'forward', params: { port: 7 } });
    expect(decodeTableEntry(schema, d)).toEqual({ table: 'MyIngress.fwd', isDefaultAction: true, match: {}, action: 'MyIngress.forward', params: { port: 7n } });
    const del = encodeUpdate(schema, deleteEntry({ table: 'fwd', match: { dst: 9 } }));
    expect(del.type).toBe(p4v1.Update_Type.DELETE);
    expect(decodeUpdate(schema, del)).toEqual({ type: 'delete', entity: { kind: 'tableEntry', value: { table: 'MyIngress.fwd', match: { dst: 9n }, params: {} } } });
    const ins = encodeUpdate(schema, insertEntry({ table: 'fwd', match: { dst: 9 }, action: 'drop' }));
    expect(decodeUpdate(schema, ins).type).toBe('insert');
  });
});

describe('counters, registers, digests and packets', () => {
  it('round-trip counter, direct counter and register entries', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 15 }), fc.bigInt({ min: 0n, max: 1n << 62n }), bits(32), bits(48), (index, count, value, dst) => {
        const c = { counter: 'MyIngress.port_packets', index, packets: count, bytes: count * 2n };
        expect(decodeCounterEntry(schema, encodeCounterEntry(schema, c))).toEqual(c);
        const r = { register: 'MyIngress.last_length', index, value };
        expect(decodeRegisterEntry(schema, encodeRegisterEntry(schema, r))).toEqual(r);
        const dc = { entry: { table: 'MyIngress.fwd', match: { dst } }, packets: count, bytes: 0n };
        expect(decodeDirectCounterEntry(schema, encodeDirectCounterEntry(schema, dc))).toEqual(dc);
      }),
      { numRuns: 100 },
    );
    expect(thrown(() => encodeCounterEntry(schema, { counter: 'port_packets', index: 16 })).message).toBe('MyIngress.port_packets: index 16 is outside 0..15');
    expect(thrown(() => encodeRegisterEntry(schema, { register: 'last_length', index: 0, value: 1n << 32n })).location?.path).toBe('MyIngress.last_length');
    expect(encodeRegisterEntry(schema, { register: 'last_length' }).index).toBeUndefined();
  });

  it('round-trip digest lists by member name', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ src: bits(48), port: bits(9) }), { maxLength: 5 }), fc.bigInt({ min: 0n, max: 1n << 40n }), (data, listId) => {
        const v = { digest: 'learn_t', listId, timestampNs: 5n, data };
        expect(decodeDigestList(schema, encodeDigestList(schema, v))).toEqual(v);
      }),
    );
    expect(thrown(() => encodeDigestList(schema, { digest: 'learn_t', listId: 1n, timestampNs: 0n, data: [{ src: 1n }] })).message).toMatch(/member 'port' is missing/);
  });

  it('round-trip packet metadata by name, and ask for every field', () => {
    const out = { payload: new Uint8Array([1, 2, 3]), metadata: { egress_port: 4n, pad: 0n } };
    const wire = encodePacketOut(schema, out);
    expect(wire.metadata.map((m) => m.metadataId)).toEqual([1, 2]);
    expect(decodePacketOut(schema, wire)).toEqual(out);
    const pin = { payload: new Uint8Array([9]), metadata: { ingress_port: 511n, pad: 1n } };
    expect(decodePacketIn(schema, encodePacketIn(schema, pin))).toEqual(pin);
    expect(thrown(() => encodePacketOut(schema, { payload: new Uint8Array(), metadata: { egress_port: 1 } })).message).toMatch(/'pad'.*missing/);
    expect(thrown(() => encodePacketOut(schema, { payload: new Uint8Array(), metadata: { egres_port: 1, pad: 0 } })).hint).toBe("did you mean 'egress_port'?");
  });
});

describe('number fast path', () => {
  // Safe integers are encoded without a bigint; the bytes and errors must be those of the bigint path.
  const anyWidthValue = fc.oneof(fc.integer({ min: 0, max: 600 }), fc.integer({ min: -3, max: 2 ** 30 }), fc.maxSafeInteger(), fc.double(), fc.constant(2 ** 48), fc.constant(2 ** 53));
  function outcome(f: () => p4v1.TableEntry): string {
    try {
      return Buffer.from(toBinary(p4v1.TableEntrySchema, f())).toString('hex');
    } catch (err) {
      if (err instanceof SchemaError) return `${err.code}: ${err.message} (${err.hint ?? ''})`;
      throw err;
    }
  }
  it('gives the bytes and errors of the same values as bigints, for match fields and action parameters', () => {
    fc.assert(
      fc.property(anyWidthValue, anyWidthValue, (dst, port) => {
        const asNumber: TableEntryValue = { table: 'MyIngress.fwd', match: { dst }, action: 'MyIngress.forward', params: { port } };
        const big = (x: number) => (Number.isSafeInteger(x) ? BigInt(x) : x);
        const asBigint: TableEntryValue = { table: 'MyIngress.fwd', match: { dst: big(dst) }, action: 'MyIngress.forward', params: { port: big(port) } };
        expect(outcome(() => encodeTableEntry(schema, asNumber))).toBe(outcome(() => encodeTableEntry(schema, asBigint)));
      }),
      { numRuns: 500 },
    );
  });
  it('ignores inherited keys of match and params records as Object.entries does', () => {
    const match = Object.assign(Object.create({ bogus: 1 }) as Record<string, number>, { dst: 5 });
    const params = Object.assign(Object.create({ bogus: 1 }) as Record<string, number>, { port: 3 });
    const m = encodeTableEntry(schema, { table: 'MyIngress.fwd', match, action: 'MyIngress.forward', params });
    expect(decodeTableEntry(schema, m)).toEqual({ table: 'MyIngress.fwd', match: { dst: 5n }, action: 'MyIngress.forward', params: { port: 3n } });
  });
});
