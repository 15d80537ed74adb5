/**
 * What a packet test needs from a switch, whatever runs it: the embedded v1model interpreter
 * or BMv2 (simple_switch_grpc over P4Runtime). Plain values only, no interpreter types,
 * so that a scenario runs unchanged on either.
 */

/**
 * Table entries are the controller's model (runtime-controller/lb/entry.ts): the controller
 * computes them and the tests install them, so both read one definition.
 */
import type { KeyValue, ScalarValue } from '../../runtime-controller/lb/entry.ts';

export type { DefaultAction, KeyValue, ScalarValue, TableEntry } from '../../runtime-controller/lb/entry.ts';

export interface OutputPacket {
  readonly port: number;
  readonly bytes: Uint8Array;
}

export interface CounterValue {
  readonly packets: bigint;
  readonly bytes: bigint;
}

/** A digest as the controller receives it: the struct's type name and its fields by name. */
export interface DigestMessage {
  readonly name: string;
  readonly fields: Readonly<Record<string, bigint>>;
}

export interface PacketTestTarget {
  /** Short name for reports: `embedded`, `bmv2`. */
  readonly name: string;
  /** Loads a P4 program (source text); a target that needs a compiler runs it here. */
  load(p4Text: string, fileName: string): Promise<void>;
  insert(
    table: string,
    keys: Readonly<Record<string, KeyValue>>,
    action: string,
    params: Readonly<Record<string, ScalarValue>>,
    priority?: number,
  ): Promise<void>;
  /** Replaces an existing entry's action (same keys and priority). */
  modify(
    table: string,
    keys: Readonly<Record<string, KeyValue>>,
    action: string,
    params: Readonly<Record<string, ScalarValue>>,
    priority?: number,
  ): Promise<void>;
  /** Removes the entry with these keys (and priority). */
  delete(table: string, keys: Readonly<Record<string, KeyValue>>, priority?: number): Promise<void>;
  setDefault(table: string, action: string, params: Readonly<Record<string, ScalarValue>>): Promise<void>;
  /** Injects a frame on an ingress port. */
  send(port: number, bytes: Uint8Array): Promise<void>;
  /** Every frame that left since the last call, in the order they left. */
  outputs(): Promise<OutputPacket[]>;
  counter(name: string, index: number): Promise<CounterValue>;
  register(name: string, index: number): Promise<bigint>;
  /** Digests raised since the last call. */
  digests(): Promise<DigestMessage[]>;
  /** Moves the switch's clock (ingress_global_timestamp) forward. */
  advanceClock(micros: bigint | number): Promise<void>;
  /** What the target can tell about the last packet's path (a log), shown when an expectation fails. */
  lastTrace?(): readonly string[];
  close(): Promise<void>;
}
