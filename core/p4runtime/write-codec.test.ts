import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { create, equals, fromBinary, toBinary, type MessageInitShape } from '@bufbuild/protobuf';
import { ReadResponseSchema, UpdateSchema, WriteRequestSchema, type WriteRequest } from './gen/p4/v1/p4runtime_pb.ts';
import { decodeReadResponse, decodeWriteRequest, encodeReadResponse, encodeWriteRequest } from './write-codec.ts';

type UpdateInit = MessageInitShape<typeof UpdateSchema>;

const u32 = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 300 }), fc.integer({ min: 0, max: 0xffffffff }));
const smallBytes = fc.uint8Array({ minLength: 0, maxLength: 6 });

const exactMatch = fc.record({ fieldId: u32, value: smallBytes }).map(({ fieldId, value }) => ({ fieldId, fieldMatchType: { case: 'exact' as const, value: { value } } }));
// Off the hot path: the codec must hand these to protobuf-es and agree with it.
const otherMatch = fc.oneof(
  fc.record({ fieldId: u32, value: smallBytes, prefixLen: fc.integer({ min: -3, max: 128 }) }).map(({ fieldId, value, prefixLen }) => ({
    fieldId,
    fieldMatchType: { case: 'lpm' as const, value: { value, prefixLen } },
  })),
  fc.record({ fieldId: u32, value: smallBytes, mask: smallBytes }).map(({ fieldId, value, mask }) => ({ fieldId, fieldMatchType: { case: 'ternary' as const, value: { value, mask } } })),
  u32.map((fieldId) => ({ fieldId })),
);

const action = fc.record({
  actionId: u32,
  params: fc.array(fc.record({ paramId: u32, value: fc.uint8Array({ minLength: 0, maxLength: 20 }) }), { maxLength: 4 }),
});

const tableEntry = fc.record(
  {
    tableId: u32,
    match: fc.array(fc.oneof({ weight: 5, arbitrary: exactMatch }, { weight: 1, arbitrary: otherMatch }), { maxLength: 4 }),
    action: fc.oneof(
      fc.constant(undefined),
      fc.constant({}),
      action.map((value) => ({ type: { case: 'action' as const, value } })),
      u32.map((value) => ({ type: { case: 'actionProfileMemberId' as const, value } })),
    ),
    priority: fc.oneof(fc.constant(0), fc.integer({ min: -5, max: 1000 }), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })),
    isDefaultAction: fc.boolean(),
    metadata: smallBytes,
    isConst: fc.boolean(),
    controllerMetadata: fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })),
    idleTimeoutNs: fc.oneof(fc.constant(0n), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })),
    counterData: fc.oneof(
      fc.constant(undefined),
      fc.record({ packetCount: fc.bigInt({ min: -5n, max: 1000n }), byteCount: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }) }),
    ),
  },
  { requiredKeys: ['tableId', 'match'] },
);

const update: fc.Arbitrary<UpdateInit> = fc.record(
  {
    type: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: -2, max: 9 })),
    entity: fc.oneof(
      { weight: 8, arbitrary: tableEntry.map((value) => ({ entity: { case: 'tableEntry' as const, value } })) },
      { weight: 1, arbitrary: fc.record({ counterId: u32 }).map((value) => ({ entity: { case: 'counterEntry' as const, value } })) },
      { weight: 1, arbitrary: fc.constant({}) },
    ),
  },
  { requiredKeys: [] },
);

const writeRequest = fc.record(
  {
    deviceId: fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })),
    electionId: fc.record({ high: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), low: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }) }),
    updates: fc.array(update, { maxLength: 6 }),
    atomicity: fc.integer({ min: -1, max: 3 }),
    role: fc.oneof({ weight: 5, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.string({ maxLength: 4 }) }),
  },
  { requiredKeys: ['updates'] },
);

function build(init: MessageInitShape<typeof WriteRequestSchema>): WriteRequest {
  return create(WriteRequestSchema, init);
}

describe('encodeWriteRequest', () => {
  it('writes the same bytes as protobuf-es', () => {
    fc.assert(
      fc.property(writeRequest, (init) => {
        const m = build(init);
        expect(encodeWriteRequest(m)).toEqual(toBinary(WriteRequestSchema, m));
      }),
      { numRuns: 500 },
    );
  });

  it('encodes a slot-table MODIFY batch that protobuf-es reads back equal', () => {
    const updates = Array.from({ length: 50 }, (_, slot) => ({
      type: 2,
      entity: {
        entity: {
          case: 'tableEntry' as const,
          value: {
            tableId: 0x02000001,
            match: [
              { fieldId: 1, fieldMatchType: { case: 'exact' as const, value: { value: Uint8Array.of(0, 3) } } },
              { fieldId: 2, fieldMatchType: { case: 'exact' as const, value: { value: Uint8Array.of(slot >> 8, slot & 0xff) } } },
            ],
            action: { type: { case: 'action' as const, value: { actionId: 0x01000002, params: [{ paramId: 1, value: Uint8Array.of(slot % 4) }] } } },
          },
        },
      },
    }));
    const m = build({ deviceId: 1n, electionId: { high: 0n, low: 10n }, updates });
    const bytes = encodeWriteRequest(m);
    expect(equals(WriteRequestSchema, fromBinary(WriteRequestSchema, bytes), m)).toBe(true);
    expect(equals(WriteRequestSchema, decodeWriteRequest(bytes), m)).toBe(true);
  });

  it('keeps unknown fields by handing the message to protobuf-es', () => {
    const m = build({ updates: [{ type: 1, entity: { entity: { case: 'tableEntry', value: { tableId: 5 } } } }] });
    const withUnknown = fromBinary(WriteRequestSchema, Uint8Array.of(...toBinary(WriteRequestSchema, m), (15 << 3) | 0, 7));
    expect(withUnknown.$unknown).toHaveLength(1);
    expect(encodeWriteRequest(withUnknown)).toEqual(toBinary(WriteRequestSchema, withUnknown));
    // An unknown field (15) inside a table entry: that update goes through protobuf-es.
    const entry = Uint8Array.of((1 << 3) | 0, 5, (15 << 3) | 0, 1);
    const entity = Uint8Array.of((2 << 3) | 2, entry.length, ...entry);
    const update = Uint8Array.of((2 << 3) | 2, entity.length, ...entity);
    const nested = fromBinary(WriteRequestSchema, Uint8Array.of((4 << 3) | 2, update.length, ...update));
    expect(encodeWriteRequest(nested)).toEqual(toBinary(WriteRequestSchema, nested));
    expect(decodeWriteRequest(toBinary(WriteRequestSchema, nested))).toEqual(nested);
  });
});

describe('decodeWriteRequest', () => {
  it('reads what protobuf-es reads from any encoded request', () => {
    fc.assert(
      fc.property(writeRequest, (init) => {
        const bytes = toBinary(WriteRequestSchema, build(init));
        const expected = fromBinary(WriteRequestSchema, bytes);
        const got = decodeWriteRequest(bytes);
        expect(equals(WriteRequestSchema, got, expected)).toBe(true);
        expect(got).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('agrees with protobuf-es on repeated singular fields, which protobuf merges', () => {
    const entry = (init: MessageInitShape<typeof UpdateSchema>): Uint8Array => toBinary(UpdateSchema, create(UpdateSchema, init));
    // The same Update's entity twice: protobuf-es merges the two table entries.
    const a = entry({ type: 2, entity: { entity: { case: 'tableEntry', value: { tableId: 1, match: [{ fieldId: 1, fieldMatchType: { case: 'exact', value: { value: Uint8Array.of(1) } } }] } } } });
    const b = entry({ entity: { entity: { case: 'tableEntry', value: { priority: 3, match: [{ fieldId: 2, fieldMatchType: { case: 'exact', value: { value: Uint8Array.of(2) } } }] } } } });
    const update = Uint8Array.of(...a, ...b);
    const bytes = Uint8Array.of((4 << 3) | 2, update.length, ...update);
    const got = decodeWriteRequest(bytes);
    expect(got).toEqual(fromBinary(WriteRequestSchema, bytes));
    expect(got.updates[0]!.entity?.entity.case === 'tableEntry' && got.updates[0]!.entity.entity.value.match).toHaveLength(2);
  });

  it('fails as protobuf-es fails on arbitrary bytes, and otherwise agrees with it', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        let expected: WriteRequest | Error;
        try {
          expected = fromBinary(WriteRequestSchema, bytes);
        } catch (e) {
          expected = e as Error;
        }
        if (expected instanceof Error) expect(() => decodeWriteRequest(bytes)).toThrow(expected.message);
        else expect(decodeWriteRequest(bytes)).toEqual(expected);
      }),
      { numRuns: 2000 },
    );
  });

  it('fails as protobuf-es does on a truncated slot-table update', () => {
    const m = build({ updates: [{ type: 2, entity: { entity: { case: 'tableEntry', value: { tableId: 7, match: [{ fieldId: 1, fieldMatchType: { case: 'exact', value: { value: Uint8Array.of(1, 2) } } }] } } } }] });
    const bytes = toBinary(WriteRequestSchema, m).subarray(0, 9);
    expect(() => fromBinary(WriteRequestSchema, bytes)).toThrow();
    expect(() => decodeWriteRequest(bytes)).toThrow();
  });
});

const readResponse = fc.record({
  entities: fc.array(
    fc.oneof(
      { weight: 8, arbitrary: tableEntry.map((value) => ({ entity: { case: 'tableEntry' as const, value } })) },
      { weight: 1, arbitrary: fc.record({ registerId: u32 }).map((value) => ({ entity: { case: 'registerEntry' as const, value } })) },
      { weight: 1, arbitrary: fc.constant({}) },
    ),
    { maxLength: 6 },
  ),
});

describe('ReadResponse codec', () => {
  it('encodes the same bytes as protobuf-es and decodes what it decodes', () => {
    fc.assert(
      fc.property(readResponse, (init) => {
        const m = create(ReadResponseSchema, init);
        const bytes = toBinary(ReadResponseSchema, m);
        expect(encodeReadResponse(m)).toEqual(bytes);
        const expected = fromBinary(ReadResponseSchema, bytes);
        expect(decodeReadResponse(bytes)).toEqual(expected);
        expect(equals(ReadResponseSchema, decodeReadResponse(bytes), expected)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('fails as protobuf-es fails on arbitrary bytes, and otherwise agrees with it', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        let expected;
        try {
          expected = fromBinary(ReadResponseSchema, bytes);
        } catch (e) {
          expect(() => decodeReadResponse(bytes)).toThrow((e as Error).message);
          return;
        }
        expect(decodeReadResponse(bytes)).toEqual(expected);
      }),
      { numRuns: 2000 },
    );
  });
});
