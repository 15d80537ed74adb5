import { describe, expect, it } from 'vitest';
import { EmbeddedTarget } from './embedded-target.ts';
import { PacketTest } from './packet-test.ts';
import { frame, innerPacket } from './scenario.ts';

/** A one-table forwarder: enough to exercise names, match kinds, counters and registers. */
const PROGRAM = `
#include <core.p4>
#include <v1model.p4>
header eth_h { bit<48> dst; bit<48> src; bit<16> type; }
header ipv4_h { bit<64> a; bit<32> b; bit<32> src; bit<32> dst; }
struct headers_t { eth_h eth; ipv4_h ipv4; }
struct meta_t { bit<8> unused; }
parser P(packet_in pk, out headers_t h, inout meta_t m, inout standard_metadata_t s) {
  state start { pk.extract(h.eth); pk.extract(h.ipv4); transition accept; }
}
control V(inout headers_t h, inout meta_t m) { apply { } }
control I(inout headers_t h, inout meta_t m, inout standard_metadata_t s) {
  counter(4, CounterType.packets_and_bytes) hits;
  register<bit<32>>(4) last_dst;
  action forward(bit<9> port, bit<48> mac) { s.egress_spec = port; h.eth.dst = mac; hits.count(0); last_dst.write(1, h.ipv4.dst); }
  action discard() { mark_to_drop(s); }
  table routes {
    key = { h.ipv4.dst: lpm @name("dst_addr"); }
    actions = { forward; discard; }
    default_action = discard();
  }
  apply { routes.apply(); }
}
control E(inout headers_t h, inout meta_t m, inout standard_metadata_t s) { apply { } }
control C(inout headers_t h, inout meta_t m) { apply { } }
control D(packet_out pk, in headers_t h) { apply { pk.emit(h.eth); pk.emit(h.ipv4); } }
V1Switch(P(), V(), I(), E(), C(), D()) main;
`;

async function loaded(): Promise<PacketTest> {
  const target = new EmbeddedTarget();
  await target.load(PROGRAM, 'fwd.p4');
  return new PacketTest(target);
}

const packet = frame('02:00:00:00:00:01', '02:00:00:00:00:02', innerPacket({ src: '10.1.0.1', srcPort: 1, dst: '10.2.0.9', dstPort: 2 }));

describe('the embedded target', () => {
  it('resolves tables, actions and keys by their short names, and forwards by longest prefix', async () => {
    const t = await loaded();
    await t.insert('routes', { dst_addr: { value: '10.2.0.0', prefixLength: 16 } }, 'forward', { port: 3, mac: '02:00:00:00:00:33' });
    await t.insert('I.routes', { dst_addr: { value: '10.2.0.8', prefixLength: 29 } }, 'I.forward', { port: 4, mac: '02:00:00:00:00:44' });
    await t.send(1, packet);
    const out = await t.expectPacket(4, pattern4());
    expect(out.bytes.slice(0, 6)).toEqual(Uint8Array.of(2, 0, 0, 0, 0, 0x44));
    await t.expectCounter('hits', 0, { packets: 1, bytes: packet.length });
    expect(await t.register('last_dst', 1)).toBe(0x0a020009n);
  });

  it('answers a misspelt name with a did-you-mean hint', async () => {
    const t = await loaded();
    await expect(t.insert('rootes', { dst_addr: 1 }, 'forward', {})).rejects.toMatchObject({ code: 'PACKET_TEST_UNKNOWN_NAME', hint: "did you mean 'routes'?" });
    await expect(t.insert('routes', { dst_adr: 1 }, 'forward', {})).rejects.toMatchObject({ hint: "did you mean 'dst_addr'?" });
    await expect(t.insert('routes', { dst_addr: 1 }, 'forwrd', {})).rejects.toMatchObject({ hint: "did you mean 'forward'?" });
    await expect(t.insert('routes', { dst_addr: 1 }, 'forward', { prot: 1, mac: 0 })).rejects.toMatchObject({ hint: "did you mean 'port'?" });
    await expect(t.counter('hit', 0)).rejects.toMatchObject({ hint: "did you mean 'hits'?" });
  });

  it('reports an expected packet that never came, with the trace of the last one', async () => {
    const t = await loaded();
    await t.send(1, packet);
    await expect(t.expectPacket(3, packet)).rejects.toThrow(/the switch sent nothing[\s\S]*trace of the last packet sent:[\s\S]*table I\.routes/);
    await t.expectNoPacket();
  });

  it('moves the clock forward only', async () => {
    const target = new EmbeddedTarget();
    await target.load(PROGRAM, 'fwd.p4');
    await expect(target.advanceClock(-1)).rejects.toThrow(/only moves forward/);
  });
});

function pattern4(): { bytes: Uint8Array; ignore: { offset: number; length: number }[] } {
  // The destination MAC is the route's; the rest is the input.
  return { bytes: packet, ignore: [{ offset: 0, length: 6 }] };
}
