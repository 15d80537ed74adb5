/**
 * The one string order of p4lb: UTF-16 code units, as `<` compares strings. Not locale order
 * (`localeCompare`): every controller, gateway and generator run must sort names alike, on any
 * machine and in any locale, because ids, slot tables and table diffs follow from the order.
 */
export function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
