/**
 * What compiled code runs against: the packet being processed and two levels of variable slots,
 * the block instance's (parameters and control-level variables) and the running function's
 * (an action's parameters and locals, an apply body's locals, a parser run's state locals).
 */
import type { BitWriter } from './bits.ts';
import type { StructValue, Value } from './values.ts';

/** One packet's journey through the pipeline: input bytes, parser cursor, side effects. */
export interface PacketState {
  /** The packet as it entered the pipeline. */
  readonly bytes: Uint8Array;
  /** Bit offset of the parser cursor: the payload starts here at deparse time. */
  cursorBits: number;
  /** What the deparser has emitted so far. */
  readonly emitted: BitWriter;
  /** Length in bytes to truncate the output to (v1model `truncate`). */
  truncateTo: number | undefined;
  /** Digests raised: receiver, P4 type name and the flattened field values with widths. */
  readonly digests: DigestRecord[];
  /** Trace lines, when tracing. */
  readonly trace: string[] | undefined;
  /** Ingress length in bytes: what counters count. */
  readonly ingressLength: number;
  /** The packet's standard_metadata, which externs such as mark_to_drop change. */
  readonly standardMetadata: StructValue;
}

export interface DigestRecord {
  readonly typeName: string;
  readonly receiver: bigint;
  /** Top-level members of the digest struct, in order (nested structs flattened by the caller). */
  readonly members: readonly { readonly value: Value; readonly width: number }[];
}

export interface Frame {
  readonly block: Value[];
  readonly local: Value[];
  readonly packet: PacketState;
}

/** Where a named variable lives. */
export interface SlotRef {
  readonly level: 'block' | 'local';
  readonly index: number;
}

/** Statement outcome: carry on, leave the action or control (`return`), or leave the block (`exit`). */
export const Flow = { Normal: 0, Return: 1, Exit: 2 } as const;
export type FlowCode = (typeof Flow)[keyof typeof Flow];
