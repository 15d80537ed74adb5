import { P4lbError } from '../errors.ts';

/**
 * A packet that cannot be decoded: names the byte offset (from the start of the buffer handed to
 * the decoder) and the field at fault, e.g. `byte 14: IPv4 version 6, expected 4`.
 */
export class PacketError extends P4lbError {
  /** Byte offset of the field at fault, from the start of the decoded buffer. */
  readonly offset: number;
  /** Dotted field name, e.g. `ipv4.version`, `udp.length`, `tunnel.inner.ipv4.ihl`. */
  readonly field: string;

  constructor(offset: number, field: string, message: string, hint?: string) {
    super('PACKET_MALFORMED', message, { location: { offset }, ...(hint === undefined ? {} : { hint }) });
    this.offset = offset;
    this.field = field;
  }
}

/** A header that cannot be encoded: a field value out of its range, options of a bad length. */
export class PacketEncodeError extends P4lbError {
  readonly field: string;

  constructor(field: string, message: string) {
    super('PACKET_FIELD_INVALID', message, { location: { path: field } });
    this.field = field;
  }
}
