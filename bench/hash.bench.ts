/** Slot-table build times (M = 65536) and flow-hash lookup rate. */
import zlib from 'node:zlib';
import { buildSlotTable, type SlotTableAlgorithm } from '../core/hash/index.ts';
import { crc32 } from '../core/hash/bmv2-hashes.ts';
import { encodeFlowKey, flowHash, slotOf, type FlowTuple } from '../core/hash/flow-key.ts';
import { fmix32 } from '../core/hash/rendezvous.ts';
import type { BenchCase, BenchSuite } from './harness.ts';

const SLOTS = 65536;
const LOOKUP_BATCH = 10_000;

function backends(n: number, weighted: boolean): { name: string; weight: number }[] {
  return Array.from({ length: n }, (_, i) => ({ name: `be-${String(i).padStart(4, '0')}`, weight: weighted ? 1 + (i % 4) : 1 }));
}

// Deterministic pseudo-random tuples: the same every run.
const tuples: FlowTuple[] = Array.from({ length: LOOKUP_BATCH }, (_, i) => {
  const r = fmix32(i + 1);
  return { srcAddr: fmix32(r), dstAddr: 0xcb00710a, protocol: 6, srcPort: r & 0xffff, dstPort: 443 };
});
const keys = tuples.map((t) => encodeFlowKey('5-tuple', t));

const buildCases: BenchCase[] = [];
for (const n of [10, 100, 1000]) {
  for (const algorithm of ['maglev', 'rendezvous'] as SlotTableAlgorithm[]) {
    const set = backends(n, false);
    buildCases.push({
      name: `build ${algorithm} N=${n} M=${SLOTS}`,
      group: `build N=${n}`,
      iterations: algorithm === 'rendezvous' && n === 1000 ? 7 : 15,
      fn: () => buildSlotTable(algorithm, set, SLOTS),
    });
  }
}
for (const algorithm of ['maglev', 'rendezvous'] as SlotTableAlgorithm[]) {
  const set = backends(100, true);
  buildCases.push({
    name: `build ${algorithm} N=100 weighted 1..4`,
    group: 'build N=100 weighted',
    iterations: 9,
    fn: () => buildSlotTable(algorithm, set, SLOTS),
  });
}

const suite: BenchSuite = {
  name: 'hash',
  description: `slot-table build for M=${SLOTS}; flow hash + slot lookups in batches of ${LOOKUP_BATCH}`,
  cases: [
    ...buildCases,
    {
      name: 'flowHash + slotOf (5-tuple, encode + crc32)',
      group: 'lookup',
      opsPerCall: LOOKUP_BATCH,
      iterations: 30,
      fn: () => {
        let acc = 0;
        for (const t of tuples) acc ^= slotOf(flowHash('5-tuple', t), SLOTS);
        return acc;
      },
    },
    {
      name: 'crc32 of pre-encoded 13-byte keys (ours)',
      group: 'crc32',
      opsPerCall: LOOKUP_BATCH,
      iterations: 30,
      fn: () => {
        let acc = 0;
        for (const k of keys) acc ^= crc32(k);
        return acc;
      },
    },
    {
      name: 'crc32 of pre-encoded 13-byte keys (zlib.crc32)',
      group: 'crc32',
      opsPerCall: LOOKUP_BATCH,
      iterations: 30,
      fn: () => {
        let acc = 0;
        for (const k of keys) acc ^= zlib.crc32(k);
        return acc;
      },
    },
  ],
};

export default suite;
