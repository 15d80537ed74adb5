// A small load-balancer-shaped v1model program written for the P4Info golden test: exercises
// @name keys, const default actions, @defaultonly refs, direct and indirect counters, a meter,
// registers, a digest, const entries and controller packet metadata.
#include <core.p4>
#include <v1model.p4>

@controller_header("packet_in")
header packet_in_t { bit<9> ingress_port; bit<7> pad; }
@controller_header("packet_out")
header packet_out_t { bit<9> egress_port; bit<7> pad; }
header ethernet_t { bit<48> dst; bit<48> src; bit<16> etherType; }
struct headers_t { packet_out_t po; packet_in_t pi; ethernet_t eth; }
struct meta_t { bit<16> vip; bit<32> slot; bit<16> backend; }
struct learn_t { bit<48> src; bit<9> port; }

parser P(packet_in pkt, out headers_t h, inout meta_t m, inout standard_metadata_t sm) {
    state start { pkt.extract(h.eth); transition accept; }
}
control VC(inout headers_t h, inout meta_t m) { apply { } }
control MyIngress(inout headers_t h, inout meta_t m, inout standard_metadata_t sm) {
    direct_counter(CounterType.packets) vip_hits;
    counter(1024, CounterType.bytes) backend_bytes;
    meter(64, MeterType.packets) per_vip_rate;
    register<bit<32>>(4096) last_seen;
    action set_vip(bit<16> vip) { m.vip = vip; vip_hits.count(); }
    action drop() { mark_to_drop(sm); }
    action set_backend(bit<16> backend, bit<9> port) { m.backend = backend; sm.egress_spec = port; }
    action learn() { digest<learn_t>(1, { h.eth.src, sm.ingress_port }); }
    table vips {
        key = { h.eth.dst: exact @name("dst_mac"); h.eth.etherType: ternary; }
        actions = { set_vip; @defaultonly NoAction; }
        const default_action = NoAction();
        counters = vip_hits;
        size = 256;
    }
    table slots {
        key = { m.vip: exact; m.slot[11:0]: exact; }
        actions = { set_backend; drop; @tableonly learn; }
        default_action = drop();
        size = 65536;
    }
    @name("port_map") table ports {
        key = { sm.ingress_port: exact; }
        actions = { drop; NoAction; }
        const entries = { 9w0: drop(); }
    }
    apply {
        vips.apply();
        slots.apply();
        ports.apply();
        backend_bytes.count((bit<32>) m.backend);
        last_seen.write((bit<32>) m.backend, 1);
    }
}
control E(inout headers_t h, inout meta_t m, inout standard_metadata_t sm) {
    action drop() { mark_to_drop(sm); }
    action set_rid(bit<16> rid) { sm.egress_rid = rid; }
    table ports { key = { sm.egress_port: exact; } actions = { drop; set_rid; } default_action = set_rid(0x1234); }
    apply { ports.apply(); }
}
control CC(inout headers_t h, inout meta_t m) { apply { } }
control D(packet_out pkt, in headers_t h) { apply { pkt.emit(h.pi); pkt.emit(h.eth); } }
V1Switch(P(), VC(), MyIngress(), E(), CC(), D()) main;
