import { describe, expect, it } from 'vitest';
import { create, equals, fromBinary, toBinary } from '@bufbuild/protobuf';
import { DoubleValueSchema, FloatValueSchema, anyPack } from '@bufbuild/protobuf/wkt';
import { P4RuntimeError } from './errors.ts';
import { P4InfoSchema } from './gen/p4/config/v1/p4info_pb.ts';
import { ErrorSchema, WriteRequestSchema } from './gen/p4/v1/p4runtime_pb.ts';
import { cEscape, p4InfoFromText, p4InfoToText, parseTextFormat, printTextFormat } from './text-format.ts';

/**
 * A small load-balancer P4Info in the layout p4c (protobuf C++ TextFormat) writes: header
 * comment, field-number order, empty messages as `name {` / `}`, maps sorted by key, escaped
 * annotation strings, enums by name. The printer was also checked byte for byte against p4c's
 * own testdata outputs (646 files) during development.
 */
const LB_P4INFO = `# proto-file: p4/config/v1/p4info.proto
# proto-message: p4.config.v1.P4Info

pkg_info {
  arch: "v1model"
}
tables {
  preamble {
    id: 37375156
    name: "MyIngress.vip_table"
    alias: "vip_table"
  }
  match_fields {
    id: 1
    name: "hdr.ipv4.dstAddr"
    bitwidth: 32
    match_type: EXACT
  }
  match_fields {
    id: 2
    name: "meta.l4_dport"
    bitwidth: 16
    match_type: TERNARY
  }
  action_refs {
    id: 23466264
  }
  action_refs {
    id: 21257015
    annotations: "@defaultonly"
    scope: DEFAULT_ONLY
  }
  initial_default_action {
    action_id: 21257015
  }
  direct_resource_ids: 318814193
  size: 1024
  idle_timeout_behavior: NOTIFY_CONTROL
}
actions {
  preamble {
    id: 21257015
    name: "NoAction"
    alias: "NoAction"
    annotations: "@noWarn(\\"unused\\")"
  }
}
actions {
  preamble {
    id: 23466264
    name: "MyIngress.set_vip"
    alias: "set_vip"
  }
  params {
    id: 1
    name: "vip_id"
    bitwidth: 16
  }
}
direct_counters {
  preamble {
    id: 318814193
    name: "MyIngress.vip_hits"
    alias: "vip_hits"
  }
  spec {
    unit: BOTH
  }
  direct_table_id: 37375156
}
controller_packet_metadata {
  preamble {
    id: 67146229
    name: "packet_in"
    alias: "packet_in"
    annotations: "@controller_header(\\"packet_in\\")"
  }
  metadata {
    id: 1
    name: "ingress_port"
    bitwidth: 9
  }
}
registers {
  preamble {
    id: 369140025
    name: "MyIngress.flow_slots"
    alias: "flow_slots"
  }
  type_spec {
    bitstring {
      bit {
        bitwidth: 32
      }
    }
  }
  size: 65536
}
digests {
  preamble {
    id: 385931278
    name: "digest_t"
    alias: "digest_t"
  }
  type_spec {
    struct {
      name: "new_flow_t"
    }
  }
}
type_info {
  structs {
    key: "new_flow_t"
    value {
      members {
        name: "src"
        type_spec {
          bitstring {
            bit {
              bitwidth: 32
            }
          }
        }
      }
      members {
        name: "flag"
        type_spec {
          bool {
          }
        }
      }
    }
  }
  structs {
    key: "z_meta_t"
    value {
    }
  }
  serializable_enums {
    key: "Kind"
    value {
      underlying_type {
        bitwidth: 8
      }
      members {
        name: "A"
        value: "\\001"
      }
    }
  }
}
`;

function parseError(f: () => unknown): P4RuntimeError {
  try {
    f();
  } catch (e) {
    if (e instanceof P4RuntimeError) return e;
    throw e;
  }
  throw new Error('expected a P4RuntimeError');
}

describe('P4Info text format', () => {
  it('prints the parsed fixture back byte for byte', () => {
    expect(p4InfoToText(p4InfoFromText(LB_P4INFO))).toBe(LB_P4INFO);
  });

  it('reads the values it claims to', () => {
    const info = p4InfoFromText(LB_P4INFO);
    const table = info.tables[0]!;
    expect(table.preamble?.name).toBe('MyIngress.vip_table');
    expect(table.size).toBe(1024n);
    expect(table.actionRefs[1]?.annotations).toEqual(['@defaultonly']);
    expect(info.actions[0]?.preamble?.annotations).toEqual(['@noWarn("unused")']);
    expect(info.typeInfo?.serializableEnums['Kind']?.members[0]?.value).toEqual(Uint8Array.of(1));
    expect(info.typeInfo?.structs['new_flow_t']?.members[1]?.typeSpec?.typeSpec.case).toBe('bool');
  });

  it('survives a binary round trip unchanged', () => {
    const info = p4InfoFromText(LB_P4INFO);
    const again = fromBinary(P4InfoSchema, toBinary(P4InfoSchema, info));
    expect(equals(P4InfoSchema, info, again)).toBe(true);
    expect(p4InfoToText(again)).toBe(LB_P4INFO);
  });

  it('sorts map entries by key whatever the insertion order', () => {
    const info = create(P4InfoSchema, { typeInfo: { structs: { b: {}, a: {} } } });
    expect(printTextFormat(P4InfoSchema, info)).toBe(
      'type_info {\n  structs {\n    key: "a"\n    value {\n    }\n  }\n  structs {\n    key: "b"\n    value {\n    }\n  }\n}\n',
    );
  });
});

describe('printTextFormat', () => {
  it('omits proto3 defaults and prints oneof members even when zero', () => {
    const req = create(WriteRequestSchema, {
      deviceId: 0n,
      electionId: { high: 0n, low: 1n },
      updates: [{ type: 1, entity: { entity: { case: 'counterEntry', value: { counterId: 0 } } } }],
    });
    expect(printTextFormat(WriteRequestSchema, req)).toBe(
      'election_id {\n  low: 1\n}\nupdates {\n  type: INSERT\n  entity {\n    counter_entry {\n    }\n  }\n}\n',
    );
  });

  it('escapes like C++ CEscape', () => {
    expect(cEscape(Uint8Array.of(0x0a, 0x0d, 0x09, 0x22, 0x27, 0x5c, 0x41, 0x00, 0x7f, 0xff))).toBe(
      '\\n\\r\\t\\"\\\'\\\\A\\000\\177\\377',
    );
    const info = create(P4InfoSchema, { pkgInfo: { name: 'é' } });
    expect(printTextFormat(P4InfoSchema, info)).toBe('pkg_info {\n  name: "\\303\\251"\n}\n');
  });

  it('prints Any unexpanded, as type_url and escaped bytes', () => {
    const any = anyPack(ErrorSchema, create(ErrorSchema, { canonicalCode: 5 }));
    const text = printTextFormat(ErrorSchema, create(ErrorSchema, { details: any }));
    expect(text).toBe('details {\n  type_url: "type.googleapis.com/p4.v1.Error"\n  value: "\\010\\005"\n}\n');
  });

  it('formats doubles and floats like SimpleDtoa / SimpleFtoa', () => {
    const d = (value: number) => printTextFormat(DoubleValueSchema, create(DoubleValueSchema, { value }));
    expect(d(0.1)).toBe('value: 0.1\n');
    expect(d(1e20)).toBe('value: 1e+20\n');
    expect(d(1 / 3)).toBe('value: 0.33333333333333331\n');
    expect(d(-2.5e-7)).toBe('value: -2.5e-07\n');
    expect(d(Infinity)).toBe('value: inf\n');
    const f = (value: number) => printTextFormat(FloatValueSchema, create(FloatValueSchema, { value }));
    expect(f(Math.fround(0.1))).toBe('value: 0.1\n');
    expect(f(16777217)).toBe('value: 16777216\n');
  });
});

describe('parseTextFormat', () => {
  it('accepts the usual variations: <>, [lists], separators, comments, hex, quotes', () => {
    const text = `
      # a comment
      tables < preamble { id: 0x2000001, name: 'a' "b" } size: 010 ; >
      tables { direct_resource_ids: [1, 2, 3] match_fields: [{ id: 1 }, { id: 2 }] }
    `;
    const info = p4InfoFromText(text);
    expect(info.tables[0]?.preamble?.id).toBe(0x2000001);
    expect(info.tables[0]?.preamble?.name).toBe('ab');
    expect(info.tables[0]?.size).toBe(8n);
    expect(info.tables[1]?.directResourceIds).toEqual([1, 2, 3]);
    expect(info.tables[1]?.matchFields.map((m) => m.id)).toEqual([1, 2]);
  });

  it('reads enums by number, escapes and negative integers', () => {
    const req = parseTextFormat(
      WriteRequestSchema,
      'atomicity: 2 updates { entity { table_entry { priority: -3 metadata: "\\x41\\101\\n" } } }',
    );
    expect(req.atomicity).toBe(2);
    const entity = req.updates[0]?.entity?.entity;
    expect(entity?.case).toBe('tableEntry');
    if (entity?.case === 'tableEntry') {
      expect(entity.value.priority).toBe(-3);
      expect(entity.value.metadata).toEqual(Uint8Array.of(0x41, 0x41, 0x0a));
    }
  });

  it('names an unknown field with its position and a suggestion', () => {
    const e = parseError(() => p4InfoFromText('tables {\n  preambel {\n  }\n}\n', { file: 'x.txtpb' }));
    expect(e.code).toBe('TEXT_FORMAT_PARSE');
    expect(e.location).toEqual({ file: 'x.txtpb', line: 2, column: 3 });
    expect(e.hint).toBe("did you mean 'preamble'?");
  });

  it('refuses a non-repeated field given twice and two members of one oneof', () => {
    expect(parseError(() => p4InfoFromText('pkg_info { arch: "a" arch: "b" }')).message).toContain('more than once');
    const e = parseError(() => p4InfoFromText('tables { match_fields { match_type: EXACT other_match_type: "x" } }'));
    expect(e.message).toContain("oneof 'match'");
  });

  it('refuses unknown enum names, out-of-range integers and unterminated input', () => {
    expect(parseError(() => p4InfoFromText('tables { match_fields { match_type: EXCT } }')).hint).toBe(
      "did you mean 'EXACT'?",
    );
    expect(parseError(() => p4InfoFromText('tables { preamble { id: 4294967296 } }')).message).toContain(
      'out of range',
    );
    expect(parseError(() => p4InfoFromText('tables { preamble {')).message).toContain('end of input');
    expect(parseError(() => p4InfoFromText('pkg_info { arch: "v1 }')).message).toContain('unterminated');
  });
});
