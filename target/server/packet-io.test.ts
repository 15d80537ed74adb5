import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { encodeP4Value } from '../../core/p4runtime/bytes.ts';
import { buildPacketOut, splitPacketIn } from './packet-io.ts';
import type { ControllerHeader } from './pipeline.ts';

const header: ControllerHeader = {
  fields: [
    { id: 1, name: 'port', bitwidth: 9 },
    { id: 2, name: 'reason', bitwidth: 8 },
  ],
  byteLength: 3,
};

describe('controller headers', () => {
  it('writes packet_out fields most-significant bit first, padded to a byte', () => {
    const out = buildPacketOut(header, [{ metadataId: 2, value: Uint8Array.of(0xab) }, { metadataId: 1, value: Uint8Array.of(1, 0xff) }], Uint8Array.of(9));
    // 1_1111_1111 1010_1011 0000000 -> ff d5 80
    expect(Array.from(out)).toEqual([0xff, 0xd5, 0x80, 9]);
  });

  it('refuses missing, repeated, unknown and too-wide metadata', () => {
    expect(() => buildPacketOut(header, [{ metadataId: 1, value: Uint8Array.of(1) }], new Uint8Array())).toThrow(/reason/);
    expect(() => buildPacketOut(header, [{ metadataId: 1, value: Uint8Array.of(1) }, { metadataId: 1, value: Uint8Array.of(1) }], new Uint8Array())).toThrow(/twice/);
    expect(() => buildPacketOut(header, [{ metadataId: 7, value: Uint8Array.of(1) }], new Uint8Array())).toThrow(/id 7/);
    expect(() => buildPacketOut(header, [{ metadataId: 1, value: Uint8Array.of(2, 0) }, { metadataId: 2, value: Uint8Array.of(0) }], new Uint8Array())).toThrow(expect.objectContaining({ code: 'OUT_OF_RANGE' }) as Error);
  });

  it('splits what it builds back into the same metadata and payload', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 511 }), fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 20 }), (port, reason, payload) => {
        const metadata = [{ metadataId: 1, value: encodeP4Value(BigInt(port), 9) }, { metadataId: 2, value: encodeP4Value(BigInt(reason), 8) }];
        const split = splitPacketIn(header, buildPacketOut(header, metadata, payload));
        expect(split.metadata.map((m) => Array.from(m.value))).toEqual(metadata.map((m) => Array.from(m.value)));
        expect(Array.from(split.payload)).toEqual(Array.from(payload));
      }),
    );
  });
});
