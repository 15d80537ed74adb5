// A small v1model program exercising every entity the P4Runtime server serves: exact, ternary,
// range, optional and lpm keys, a direct counter, an indexed counter, a register, a digest and
// the packet_in / packet_out controller headers.
#include <core.p4>
#include <v1model.p4>

#define CPU_PORT 255

@controller_header("packet_out")
header packet_out_t { bit<9> egress_port; bit<7> pad; }
@controller_header("packet_in")
header packet_in_t { bit<9> ingress_port; bit<7> pad; }
header ethernet_t { bit<48> dst; bit<48> src; bit<16> etherType; }

struct headers_t { packet_out_t packet_out; packet_in_t packet_in; ethernet_t eth; }
struct meta_t { bit<1> unused; }
struct learn_t { bit<48> src; bit<9> port; }

parser P(packet_in pkt, out headers_t h, inout meta_t m, inout standard_metadata_t sm) {
    state start {
        transition select(sm.ingress_port) {
            CPU_PORT: from_cpu;
            default: ethernet;
        }
    }
    state from_cpu { pkt.extract(h.packet_out); transition ethernet; }
    state ethernet { pkt.extract(h.eth); transition accept; }
}

control VC(inout headers_t h, inout meta_t m) { apply { } }

control MyIngress(inout headers_t h, inout meta_t m, inout standard_metadata_t sm) {
    direct_counter(CounterType.packets_and_bytes) fwd_hits;
    counter(16, CounterType.packets_and_bytes) port_packets;
    register<bit<32>>(16) last_length;

    action forward(bit<9> port) { sm.egress_spec = port; }
    action to_cpu() {
        sm.egress_spec = CPU_PORT;
        h.packet_in.setValid();
        h.packet_in.ingress_port = sm.ingress_port;
        h.packet_in.pad = 0;
    }
    action drop() { mark_to_drop(sm); }
    action deny() { mark_to_drop(sm); }
    action learned() { }

    table fwd {
        key = { h.eth.dst: exact @name("dst"); }
        actions = { forward; to_cpu; drop; }
        default_action = drop();
        counters = fwd_hits;
        size = 64;
    }
    table acl {
        key = {
            h.eth.src: ternary @name("src");
            h.eth.etherType: range @name("etherType");
            sm.ingress_port: optional @name("in_port");
        }
        actions = { deny; NoAction; }
        default_action = NoAction();
    }
    table routes {
        key = { h.eth.dst: lpm @name("dst_prefix"); }
        actions = { forward; NoAction; }
        default_action = NoAction();
    }
    table smac {
        key = { h.eth.src: exact @name("src"); }
        actions = { learned; NoAction; }
        default_action = NoAction();
    }

    apply {
        if (h.packet_out.isValid()) {
            sm.egress_spec = h.packet_out.egress_port;
            h.packet_out.setInvalid();
            exit;
        }
        port_packets.count((bit<32>) sm.ingress_port);
        last_length.write((bit<32>) sm.ingress_port, sm.packet_length);
        if (!smac.apply().hit) {
            digest<learn_t>(1, { h.eth.src, sm.ingress_port });
        }
        if (!fwd.apply().hit) {
            routes.apply();
        }
        acl.apply();
    }
}

control E(inout headers_t h, inout meta_t m, inout standard_metadata_t sm) { apply { } }
control CC(inout headers_t h, inout meta_t m) { apply { } }
control D(packet_out pkt, in headers_t h) {
    apply { pkt.emit(h.packet_in); pkt.emit(h.eth); }
}

V1Switch(P(), VC(), MyIngress(), E(), CC(), D()) main;
