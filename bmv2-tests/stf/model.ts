/**
 * The typed model of an STF file (p4c's "simple test format"), one command per statement line, as
 * p4c's grammar (tools/stf/stf_parser.py plus the BMv2 CLI commands of backends/bmv2/bmv2stf.py)
 * defines it. Names are kept as written (the runner resolves them against the program, exactly or
 * by suffix); numbers keep their digits because widths are unknown until the program is loaded.
 */

/** An STF file after parsing: its name (for messages) and its commands in file order. */
export interface StfFile {
  readonly file: string;
  readonly commands: readonly StfCommand[];
}

export type StfCommand =
  | StfAdd
  | StfSetDefault
  | StfPacket
  | StfExpect
  | StfNoPacket
  | StfWait
  | StfRemove
  | StfCheckCounter
  | StfBmv2CliCommand;

export type StfCommandKind = StfCommand['kind'];

/** Every command carries the 1-based line it came from. */
interface StfCommandBase {
  readonly line: number;
}

/**
 * A number as written in the file: `0x…` (hex), `0b…` (binary) or decimal; `*` digits (hex and
 * binary only) are don't-care. `digits` are upper-cased, without the prefix.
 */
export interface StfNumberLiteral {
  readonly text: string;
  readonly radix: 2 | 10 | 16;
  readonly digits: string;
  readonly hasWildcards: boolean;
}

/** `"KEY":VALUE` in an `add` or `remove`. `text` is what `resolveKeyValue` takes. */
export interface StfKeyMatch {
  readonly name: string;
  /** Value as written, including an explicit `/PREFIX` if there is one. */
  readonly text: string;
  readonly value: StfNumberLiteral;
  /** Present for the explicit `VALUE/PREFIX` form. */
  readonly prefixLength: number | undefined;
  readonly column: number;
}

/** `"PARAM":VALUE` inside an action call; values are plain numbers (no wildcards). */
export interface StfActionArg {
  readonly name: string;
  readonly text: string;
  readonly value: bigint;
  readonly column: number;
}

export interface StfActionCall {
  readonly name: string;
  readonly args: readonly StfActionArg[];
  readonly column: number;
}

/** `add "TABLE" [PRIORITY] "KEY":VALUE … "ACTION"("PARAM":VALUE, …) [= HANDLE]` */
export interface StfAdd extends StfCommandBase {
  readonly kind: 'add';
  readonly table: string;
  /** STF priority: the larger number wins (p4c hands BMv2 `10000 - priority`, where smaller wins). */
  readonly priority: number | undefined;
  readonly keys: readonly StfKeyMatch[];
  readonly action: StfActionCall;
  /** `= NAME` names the entry so `check_counter c($NAME)` can refer to its direct counter. */
  readonly handle: string | undefined;
}

/** `setdefault "TABLE" "ACTION"(…)` */
export interface StfSetDefault extends StfCommandBase {
  readonly kind: 'setdefault';
  readonly table: string;
  readonly action: StfActionCall;
}

/** `packet PORT HEX…`: inject these bytes on this ingress port. */
export interface StfPacket extends StfCommandBase {
  readonly kind: 'packet';
  readonly port: number;
  readonly bytes: Uint8Array;
}

/**
 * Expected output: hex nibbles with `*` don't-cares; `exactLength` when the line ended in `$`
 * (otherwise the received packet may be longer than what is written).
 */
export interface ExpectedPacket {
  /** Upper-case hex digits and `*`, one character per nibble, spaces removed. */
  readonly nibbles: string;
  readonly exactLength: boolean;
}

/** `expect PORT [HEX…[$]]`; without data (`packet` undefined) the packets on PORT are not checked. */
export interface StfExpect extends StfCommandBase {
  readonly kind: 'expect';
  readonly port: number;
  readonly packet: ExpectedPacket | undefined;
}

/** `no_packet`: p4c's parser accepts it (as an expect with neither port nor data). */
export interface StfNoPacket extends StfCommandBase {
  readonly kind: 'no_packet';
}

/** `wait`: let the packets sent so far drain before going on. */
export interface StfWait extends StfCommandBase {
  readonly kind: 'wait';
}

/**
 * `remove all` (p4c's grammar), or, as a p4lb extension, `remove "TABLE" [PRIORITY] "KEY":VALUE …`
 * for one entry.
 */
export interface StfRemove extends StfCommandBase {
  readonly kind: 'remove';
  readonly target: StfRemoveTarget;
}

export type StfRemoveTarget =
  | { readonly kind: 'all' }
  | {
      readonly kind: 'entry';
      readonly table: string;
      readonly priority: number | undefined;
      readonly keys: readonly StfKeyMatch[];
    };

export type StfComparison = '==' | '!=' | '<' | '<=' | '>' | '>=';

/** `check_counter NAME(INDEX | $HANDLE) [packets|bytes OP VALUE]` */
export interface StfCheckCounter extends StfCommandBase {
  readonly kind: 'check_counter';
  readonly counter: string;
  readonly index:
    | { readonly kind: 'index'; readonly value: bigint }
    /** A direct counter's entry, by the handle given with `add … = HANDLE` (written `$HANDLE`). */
    | { readonly kind: 'entry'; readonly handle: string };
  /** Absent when the line stops after `)`: p4c's parser then records `== 0` with no count type. */
  readonly check:
    | { readonly counterType: 'packets' | 'bytes'; readonly op: StfComparison; readonly value: bigint }
    | undefined;
}

/** The BMv2-only commands p4c's BMv2 runner passes through to `simple_switch_CLI`. */
export const BMV2_CLI_COMMANDS = [
  'mirroring_add',
  'mirroring_add_mc',
  'mirroring_delete',
  'mirroring_get',
  'mc_mgrp_create',
  'mc_node_create',
  'mc_node_update',
  'mc_node_associate',
  'counter_read',
  'counter_write',
  'register_read',
  'register_write',
  'register_reset',
  'meter_get_rates',
  'meter_set_rates',
  'meter_array_set_rates',
] as const;

export type Bmv2CliCommandName = (typeof BMV2_CLI_COMMANDS)[number];

/**
 * A BMv2 CLI command (`mirroring_add 5 4`, `mc_node_create 0 6 8`, …): arguments checked for shape
 * and kept as text. Our embedded target does not run them: `supported` is false so the runner can
 * skip the test with a clear reason instead of running it wrong.
 */
export interface StfBmv2CliCommand extends StfCommandBase {
  readonly kind: 'bmv2_cli';
  readonly name: Bmv2CliCommandName;
  readonly args: readonly string[];
  readonly supported: false;
}
