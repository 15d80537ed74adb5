/**
 * The controller headers of PacketOut and PacketIn (P4Runtime spec §16.1): the fields of the
 * P4Info's `packet_out` header are written most-significant bit first in front of the payload;
 * a packet the program sends to the CPU port starts with the `packet_in` header, whose fields
 * become PacketIn metadata. Pure.
 */
import { decodeP4Value, encodeP4Value } from '../../core/p4runtime/bytes.ts';
import { invalidArgument } from './errors.ts';
import type { ControllerHeader } from './pipeline.ts';

export interface MetadataValue {
  readonly metadataId: number;
  readonly value: Uint8Array;
}

/** The packet_out header bytes followed by `payload`. Every field must be given once. */
export function buildPacketOut(header: ControllerHeader | undefined, metadata: readonly MetadataValue[], payload: Uint8Array): Uint8Array {
  if (header === undefined) {
    if (metadata.length > 0) throw invalidArgument('PacketOut has metadata but the P4Info has no packet_out header');
    return payload;
  }
  const byId = new Map<number, Uint8Array>();
  for (const m of metadata) {
    if (byId.has(m.metadataId)) throw invalidArgument(`PacketOut metadata id ${m.metadataId} appears twice`);
    if (!header.fields.some((f) => f.id === m.metadataId)) throw invalidArgument(`packet_out has no metadata with id ${m.metadataId}`);
    byId.set(m.metadataId, m.value);
  }
  let bits = 0n;
  let width = 0;
  for (const f of header.fields) {
    const raw = byId.get(f.id);
    if (raw === undefined) throw invalidArgument(`PacketOut lacks metadata '${f.name}' (id ${f.id})`);
    bits = (bits << BigInt(f.bitwidth)) | decodeP4Value(raw, f.bitwidth, { path: `packet_out.${f.name}` });
    width += f.bitwidth;
  }
  const padding = header.byteLength * 8 - width;
  bits <<= BigInt(padding);
  const out = new Uint8Array(header.byteLength + payload.length);
  for (let i = header.byteLength - 1; i >= 0; i--) {
    out[i] = Number(bits & 0xffn);
    bits >>= 8n;
  }
  out.set(payload, header.byteLength);
  return out;
}

export interface SplitPacketIn {
  readonly metadata: MetadataValue[];
  readonly payload: Uint8Array;
}

/** Splits a packet sent to the CPU port into PacketIn metadata (canonical bytes) and payload. */
export function splitPacketIn(header: ControllerHeader | undefined, bytes: Uint8Array): SplitPacketIn {
  if (header === undefined || header.byteLength > bytes.length) return { metadata: [], payload: bytes };
  let bits = 0n;
  for (let i = 0; i < header.byteLength; i++) bits = (bits << 8n) | BigInt(bytes[i]!);
  let remaining = header.byteLength * 8;
  const metadata = header.fields.map((f) => {
    remaining -= f.bitwidth;
    const value = (bits >> BigInt(remaining)) & ((1n << BigInt(f.bitwidth)) - 1n);
    return { metadataId: f.id, value: encodeP4Value(value, f.bitwidth) };
  });
  return { metadata, payload: bytes.subarray(header.byteLength) };
}
