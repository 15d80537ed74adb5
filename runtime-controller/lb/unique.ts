/** Duplicate handling for computed entry lists. */
import { entryKey, entryValue, type TableEntry } from './entry.ts';
import { LbError } from './errors.ts';

/**
 * Drops exact duplicates (one key wanted twice with one action); a conflicting duplicate is a spec
 * the program cannot serve. Entries `knownUnique` accepts are passed through unchecked: the caller
 * vouches that no other entry has their key.
 */
export function uniqueEntries(entries: readonly TableEntry[], knownUnique?: (e: TableEntry) => boolean): TableEntry[] {
  const seen = new Map<string, string>();
  const out: TableEntry[] = [];
  for (const e of entries) {
    if (knownUnique?.(e) === true) {
      out.push(e);
      continue;
    }
    const key = entryKey(e);
    const value = entryValue(e);
    const before = seen.get(key);
    if (before === undefined) {
      seen.set(key, value);
      out.push(e);
    } else if (before !== value) {
      throw new LbError('LB_DUPLICATE_KEY', `${key}: wanted by two entries (${before} and ${value})`, {
        hint: 'two VIPs or VMs of the spec need the same table key with different actions',
      });
    }
  }
  return out;
}
