/**
 * Table entries as plain values, the form the controller computes, diffs and hands to the
 * P4Runtime encoder (and the packet tests hand to a target): names, not ids; numbers, bigints
 * or text (dotted IPv4, colon MAC, 0x hex, decimal) for values.
 */
import { byCodeUnit } from '../../core/order.ts';

export type ScalarValue = bigint | number | string;

/** One key field, by its match kind. */
export type KeyValue =
  | ScalarValue
  | { readonly value: ScalarValue; readonly mask: ScalarValue }
  | { readonly value: ScalarValue; readonly prefixLength: number }
  | { readonly low: ScalarValue; readonly high: ScalarValue };

export interface TableEntry {
  /** Control-plane name (`GatewayIngress.vip_table`). */
  readonly table: string;
  /** Key fields by control-plane name. */
  readonly keys: Readonly<Record<string, KeyValue>>;
  readonly action: string;
  readonly params: Readonly<Record<string, ScalarValue>>;
  /** Only for tables with ternary, range or optional fields. */
  readonly priority?: number;
}

export interface DefaultAction {
  readonly table: string;
  readonly action: string;
  readonly params: Readonly<Record<string, ScalarValue>>;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const MAC = /^[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5}$/;

/**
 * A value as one canonical text, so that 5, 5n, '5', '0x5' agree and so do '10.0.0.1' and
 * 167772161: what a switch reads back is compared with what we computed by value, not spelling.
 */
export function canonicalScalar(v: ScalarValue): string {
  if (typeof v === 'number') return Number.isSafeInteger(v) ? String(v) : Number.isInteger(v) ? BigInt(v).toString() : `n:${v}`;
  if (typeof v === 'bigint') return v.toString();
  const ip = IPV4.exec(v);
  if (ip !== null && ip.slice(1).every((p) => Number(p) <= 255)) {
    return ip.slice(1).reduce((acc, p) => (acc << 8n) | BigInt(p), 0n).toString();
  }
  if (MAC.test(v)) return BigInt(`0x${v.replaceAll(':', '')}`).toString();
  if (/^0x[0-9a-fA-F]+$/.test(v) || /^\d+$/.test(v)) return BigInt(v).toString();
  return `s:${v}`;
}

function canonicalKeyValue(v: KeyValue): string {
  if (typeof v !== 'object') return canonicalScalar(v);
  if ('mask' in v) return `${canonicalScalar(v.value)}&${canonicalScalar(v.mask)}`;
  if ('prefixLength' in v) return `${canonicalScalar(v.value)}/${v.prefixLength}`;
  return `${canonicalScalar(v.low)}..${canonicalScalar(v.high)}`;
}

function sortedNames(record: Readonly<Record<string, unknown>>): string[] {
  return Object.keys(record).sort(byCodeUnit);
}

/** What identifies an entry in its table: the table, the key fields and the priority. */
export function entryKey(e: Pick<TableEntry, 'table' | 'keys' | 'priority'>): string {
  const fields = sortedNames(e.keys).map((k) => `${k}=${canonicalKeyValue(e.keys[k]!)}`);
  return `${e.table} ${fields.join(' ')}${e.priority === undefined ? '' : ` @${e.priority}`}`;
}

/** What the entry does: the action and its parameters. Two entries with one key and equal values need no write. */
export function entryValue(e: Pick<TableEntry, 'action' | 'params'>): string {
  return `${e.action}(${sortedNames(e.params).map((k) => `${k}=${canonicalScalar(e.params[k]!)}`).join(',')})`;
}
