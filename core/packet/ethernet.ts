/** Ethernet II header (IEEE 802.3 with an EtherType ≥ 0x0600; no VLAN tags). */
import { macFromBytes, macToBytes, readU16, writeU16 } from './bytes.ts';
import { PacketEncodeError } from './errors.ts';
import type { FieldSpec } from './fields.ts';
import { requireBytes } from './reader.ts';

export const ETHERNET_HEADER_BYTES = 14;

export const ETHERNET_FIELDS: readonly FieldSpec[] = [
  { name: 'dst', bits: 48 },
  { name: 'src', bits: 48 },
  { name: 'etherType', bits: 16 },
];

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_IPV6 = 0x86dd;

export interface EthernetHeader {
  /** "aa:bb:cc:dd:ee:ff" */
  readonly dst: string;
  readonly src: string;
  readonly etherType: number;
}

export function encodeEthernet(h: EthernetHeader): Uint8Array {
  if (!Number.isInteger(h.etherType) || h.etherType < 0 || h.etherType > 0xffff) {
    throw new PacketEncodeError('eth.etherType', `etherType ${h.etherType} does not fit 16 bits`);
  }
  const out = new Uint8Array(ETHERNET_HEADER_BYTES);
  out.set(macToBytes(h.dst), 0);
  out.set(macToBytes(h.src), 6);
  writeU16(out, 12, h.etherType);
  return out;
}

export function decodeEthernet(b: Uint8Array, at = 0, end = b.length): EthernetHeader {
  requireBytes(b, at, end, ETHERNET_HEADER_BYTES, 'eth', 'Ethernet header');
  return { dst: macFromBytes(b, at), src: macFromBytes(b, at + 6), etherType: readU16(b, at + 12) };
}
