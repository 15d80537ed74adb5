/**
 * Bmv2Target against the real simple_switch_grpc, on the small conformance program `mini`
 * (exact table, counter, register, digest). Skipped, saying so, where BMv2 is not found.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crc32 } from '../../core/hash/index.ts';
import { PacketTest } from '../dsl/packet-test.ts';
import { findBmv2 } from '../dsl/runner.ts';
import { Bmv2Target } from './bmv2-target.ts';

const MINI = readFileSync(new URL('../conformance/mini/mini.p4', import.meta.url), 'utf8');
const tools = findBmv2(process.env);
const title = tools === undefined ? 'Bmv2Target: BMv2 not found (set SIMPLE_SWITCH_GRPC and P4C): embedded target only' : 'Bmv2Target on simple_switch_grpc';

const DST = '02:00:00:00:00:02';
const SRC = '02:00:00:00:00:01';
function ethFrame(dst: string, src: string): Uint8Array {
  const mac = (m: string) => m.split(':').map((x) => parseInt(x, 16));
  return new Uint8Array([...mac(dst), ...mac(src), 0x08, 0x00, ...new Array<number>(46).fill(0x45)]);
}

function ourInterfaces(): string[] {
  return readdirSync('/sys/class/net').filter((n) => n.startsWith(`pb${process.pid.toString(36)}-`));
}

describe.skipIf(tools === undefined)(title, () => {
  const target = new Bmv2Target({ tools: tools!, ports: [1, 2] });
  const sw = new PacketTest(target);

  beforeAll(async () => {
    await target.load(MINI, 'mini.p4');
  }, 60_000);

  afterAll(async () => {
    await target.close();
  });

  it('forwards by an entry written over P4Runtime, counts it, reports the digest and keeps the register write', async () => {
    await sw.insert('slots', { dst: DST }, 'set_backend', { backend: 5, port: 2 });
    const frame = ethFrame(DST, SRC);
    await sw.send(1, frame);
    await sw.expectPacket(2, frame);
    await sw.expectNoPacket();
    await sw.expectCounter('per_backend', 5, { packets: 1, bytes: frame.length });
    await sw.expectDigest('learn_t', { src: SRC, backend: 5 });
    const srcBytes = new Uint8Array(SRC.split(':').map((x) => parseInt(x, 16)));
    expect(await sw.register('flow_sig', crc32(srcBytes) % 1024)).toBe(1n);
  });

  it('drops after the entry is deleted', async () => {
    await sw.delete('slots', { dst: DST });
    await sw.send(1, ethFrame(DST, SRC));
    await sw.expectNoPacket();
  });

  it('names a rejected insert (a duplicate) and refuses to move the clock', async () => {
    await sw.insert('slots', { dst: '02:00:00:00:00:03' }, 'drop');
    await sw.insert('slots', { dst: '02:00:00:00:00:03' }, 'drop');
    await expect(sw.send(1, ethFrame(DST, SRC))).rejects.toThrow(/BMv2 rejected 1 of 2 inserts:\n {2}MyIngress\.slots \{"dst":"02:00:00:00:00:03"\}: ALREADY_EXISTS/);
    await expect(sw.advanceClock(1000)).rejects.toThrow('BMv2 runs on real time');
  });

  it('starts afresh on a new load: empty table, zero counters', async () => {
    await target.load(MINI, 'mini.p4');
    expect(await sw.counter('per_backend', 5)).toEqual({ packets: 0n, bytes: 0n });
    await sw.send(1, ethFrame(DST, SRC));
    await sw.expectNoPacket();
  });

  it('leaves no switch process and no veth pair behind after close', async () => {
    const other = new Bmv2Target({ tools: tools!, ports: [3] });
    await other.load(MINI, 'mini.p4');
    expect(ourInterfaces().length).toBeGreaterThanOrEqual(2);
    await other.close();
    await target.close();
    expect(ourInterfaces()).toEqual([]);
  });
});

// BMv2's Thrift register read answers a signed i64 and saturates: a 64-bit value >= 2^63 reads as
// 2^63 - 1. The target refuses such a read instead of returning a wrong number.
const SATURATION = `#include <core.p4>
#include <v1model.p4>
header h_t { bit<48> dst; bit<48> src; bit<16> t; }
struct hs_t { h_t h; }
struct m_t { }
parser P(packet_in p, out hs_t h, inout m_t m, inout standard_metadata_t sm) { state start { p.extract(h.h); transition accept; } }
control VC(inout hs_t h, inout m_t m) { apply { } }
control I(inout hs_t h, inout m_t m, inout standard_metadata_t sm) {
    register<bit<64>>(2) r;
    apply { r.write(0, 64w0x8000000000000001); r.write(1, 64w0x7000000000000001); mark_to_drop(sm); }
}
control E(inout hs_t h, inout m_t m, inout standard_metadata_t sm) { apply { } }
control CC(inout hs_t h, inout m_t m) { apply { } }
control D(packet_out p, in hs_t h) { apply { p.emit(h.h); } }
V1Switch(P(), VC(), I(), E(), CC(), D()) main;
`;

describe.skipIf(tools === undefined)(`${title}: 64-bit registers over Thrift`, () => {
  const target = new Bmv2Target({ tools: tools!, ports: [1] });

  afterAll(async () => {
    await target.close();
  });

  it('reads a value below 2^63 and refuses one at or above it', async () => {
    await target.load(SATURATION, 'saturation.p4');
    await target.send(1, ethFrame(DST, SRC));
    await target.outputs();
    expect(await target.register('r', 1)).toBe(0x7000000000000001n);
    await expect(target.register('r', 0)).rejects.toThrow(/reads 0x7fffffffffffffff: BMv2's Thrift register read converts to a signed i64 and saturates/);
  }, 60_000);
});
