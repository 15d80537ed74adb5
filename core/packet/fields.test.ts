import { describe, expect, it } from 'vitest';
import { ETHERNET_FIELDS, ETHERNET_HEADER_BYTES } from './ethernet.ts';
import { fieldByteOffsets, fieldsByteLength } from './fields.ts';
import { IPV4_FIELDS, IPV4_MIN_HEADER_BYTES, IPV4_OFFSET } from './ipv4.ts';
import { TCP_FIELDS, TCP_MIN_HEADER_BYTES, TCP_OFFSET } from './tcp.ts';
import { UDP_FIELDS, UDP_HEADER_BYTES, UDP_OFFSET } from './udp.ts';

describe('header field lists (what the P4 generator emits) agree with the codecs', () => {
  it('sum to the fixed header sizes', () => {
    expect(fieldsByteLength(ETHERNET_FIELDS)).toBe(ETHERNET_HEADER_BYTES);
    expect(fieldsByteLength(IPV4_FIELDS)).toBe(IPV4_MIN_HEADER_BYTES);
    expect(fieldsByteLength(TCP_FIELDS)).toBe(TCP_MIN_HEADER_BYTES);
    expect(fieldsByteLength(UDP_FIELDS)).toBe(UDP_HEADER_BYTES);
  });

  it('place the named offsets where the field lists put them', () => {
    expect(fieldByteOffsets(IPV4_FIELDS)).toMatchObject(IPV4_OFFSET);
    expect(fieldByteOffsets(TCP_FIELDS)).toMatchObject(TCP_OFFSET);
    expect(fieldByteOffsets(UDP_FIELDS)).toMatchObject(UDP_OFFSET);
  });
});
