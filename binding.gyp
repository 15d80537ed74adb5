# Native addon for the embedded switch's interface ports (native/packet_socket.cc). npm runs
# `node-gyp rebuild` for this file on `npm ci`; the result is build/Release/p4lb_packet.node.
{
  "targets": [
    {
      "target_name": "p4lb_packet",
      "sources": ["native/packet_socket.cc"],
      "cflags_cc": ["-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
