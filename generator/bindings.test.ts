/**
 * The generated bindings type-check under the repo's tsconfig when placed next to the code, and
 * their types reject what the program does not have (an unused `@ts-expect-error` is itself an
 * error, so every rejection below is checked).
 */
import { fileURLToPath } from 'node:url';
import { Project, type Diagnostic } from 'ts-morph';
import { describe, expect, it } from 'vitest';
import { generatedExample } from './fixtures.ts';

const TSCONFIG = fileURLToPath(new URL('../tsconfig.json', import.meta.url));
/** Not written to disk: ts-morph keeps created files in memory until saved. */
const CHECK_DIR = fileURLToPath(new URL('./__bindings-typecheck__/', import.meta.url));

const GATEWAY_USE = `
import {
  bindings,
  type GatewayDefaultAction,
  type GatewayDigests,
  type GatewayPacketMetadata,
  type GatewayTableEntry,
} from './gateway.bindings.ts';

export const vipTableId: number = bindings.tables['GatewayIngress.vip_table'].id;
export const slotBits: 32 = bindings.tables['GatewayIngress.slot_table'].matchFields.slot.bitwidth;
export const vipParamId: 1 = bindings.actions['GatewayIngress.set_vip'].params.vip_id.id;
export const flowWay0: 64 = bindings.registers['GatewayIngress.flow_way0'].bitwidth;

export const entry: GatewayTableEntry = {
  table: 'GatewayIngress.vip_table',
  key: { dst_addr: 0xcb00710an, protocol: 6n, dst_port: 80n },
  action: {
    action: 'GatewayIngress.set_vip',
    params: { vip_id: 1n, mode: 0n, flow_key: 5n, slots: 65536n, idle_ticks: 115n, nat_port: 0n },
  },
};
export const route: GatewayTableEntry<'GatewayIngress.routes'> = {
  table: 'GatewayIngress.routes',
  key: { dst_addr: { value: 0x0a000000n, prefixLength: 8 } },
  action: { action: 'GatewayIngress.forward', params: { port: 2n, src_mac: 1n, dst_mac: 2n } },
};
export const config: GatewayDefaultAction = {
  table: 'GatewayIngress.gateway_config',
  action: { action: 'GatewayIngress.set_gateway', params: { underlay_addr: 0x0a000001n, tunnel_port: 6635n } },
};
export const pin: GatewayDigests['flow_pin_digest_t'] = {
  src_addr: 1n, dst_addr: 2n, protocol: 6n, src_port: 3n, dst_port: 80n, vip_id: 1n, backend_id: 2n,
};
export const packetOut: GatewayPacketMetadata['packet_out'] = { egress_port: 1n, _pad: 0n };

// @ts-expect-error: no such table
export const noTable = bindings.tables['GatewayIngress.vip_tabel'];
export const badKey: GatewayTableEntry<'GatewayIngress.slot_table'> = {
  table: 'GatewayIngress.slot_table',
  // @ts-expect-error: slot_table has no key field 'dst_addr'
  key: { vip_id: 1n, slot: 2n, dst_addr: 3n },
  action: { action: 'GatewayIngress.set_slot_backend', params: { backend_id: 1n } },
};
export const badAction: GatewayTableEntry<'GatewayIngress.slot_table'> = {
  table: 'GatewayIngress.slot_table',
  key: { vip_id: 1n, slot: 2n },
  // @ts-expect-error: set_backend is not an action of slot_table
  action: { action: 'GatewayIngress.set_backend', params: { host_addr: 1n, vm_port: 2n, vm_addr: 3n, token: 4n, expiry: 5n } },
};
export const badParam: GatewayTableEntry<'GatewayIngress.slot_table'> = {
  table: 'GatewayIngress.slot_table',
  key: { vip_id: 1n, slot: 2n },
  // @ts-expect-error: set_slot_backend has no parameter 'backend'
  action: { action: 'GatewayIngress.set_slot_backend', params: { backend: 1n } },
};
export const noActionEntry: GatewayTableEntry<'GatewayIngress.vip_table'> = {
  table: 'GatewayIngress.vip_table',
  key: { dst_addr: 1n, protocol: 6n, dst_port: 80n },
  // @ts-expect-error: NoAction is @defaultonly
  action: { action: 'NoAction', params: {} },
};
export const constDefault: GatewayDefaultAction<'GatewayIngress.vip_table'> = {
  table: 'GatewayIngress.vip_table',
  // @ts-expect-error: vip_table's default action is const
  action: { action: 'NoAction', params: {} },
};
export const lpmAsExact: GatewayTableEntry<'GatewayIngress.routes'> = {
  table: 'GatewayIngress.routes',
  // @ts-expect-error: an LPM field needs a prefix length
  key: { dst_addr: 0x0a000000n },
  action: { action: 'GatewayIngress.forward', params: { port: 2n, src_mac: 1n, dst_mac: 2n } },
};
`;

const HOST_USE = `
import { bindings, type HostTableEntry } from './host.bindings.ts';

export const peerTableId: number = bindings.tables['HostIngress.peer_table'].id;
export const entry: HostTableEntry<'HostIngress.local_vm'> = {
  table: 'HostIngress.local_vm',
  key: { vm_udp_port: 7001n },
  action: { action: 'HostIngress.deliver_to_vm', params: { vm_id: 1n, port: 2n, host_mac: 3n, vm_mac: 4n } },
};
// @ts-expect-error: the host program has no gateway tables
export const gatewayTable = bindings.tables['GatewayIngress.vip_table'];
// @ts-expect-error: no registers in the host program
export const register = bindings.registers['HostIngress.flow_way0'];
`;

function typeCheck(files: Readonly<Record<string, string>>): string[] {
  const project = new Project({ tsConfigFilePath: TSCONFIG, skipAddingFilesFromTsConfig: true });
  const sources = Object.entries(files).map(([name, text]) =>
    project.createSourceFile(`${CHECK_DIR}${name}`, text, { overwrite: true }),
  );
  const diagnostics: Diagnostic[] = sources.flatMap((s) => s.getPreEmitDiagnostics());
  return diagnostics.map((d) => {
    const file = d.getSourceFile()?.getBaseName() ?? '?';
    const message = d.getMessageText();
    return `${file}:${d.getLineNumber() ?? 0}: ${typeof message === 'string' ? message : message.getMessageText()}`;
  });
}

describe('generated bindings', () => {
  it('type-check, and reject unknown tables, key fields, actions and parameters (gateway)', () => {
    const { programs } = generatedExample();
    expect(typeCheck({ 'gateway.bindings.ts': programs.gateway.bindings, 'use-gateway.ts': GATEWAY_USE })).toEqual([]);
  });

  it('type-check, and reject names of the other program (host)', () => {
    const { programs } = generatedExample();
    expect(typeCheck({ 'host.bindings.ts': programs.host.bindings, 'use-host.ts': HOST_USE })).toEqual([]);
  });

  it('give every object its P4Info id, name and shape', () => {
    const { programs } = generatedExample();
    const text = programs.gateway.bindings;
    const vip = programs.gateway.p4info.tables.find((t) => t.preamble.name === 'GatewayIngress.vip_table')!;
    expect(text).toContain(`'GatewayIngress.vip_table': {\n      id: ${vip.preamble.id},`);
    expect(text).toContain(`dst_port: { id: 3, name: 'dst_port', bitwidth: 16, matchKind: 'EXACT' },`);
    expect(text).toContain(`'GatewayIngress.flow_way0': { id: ${(0x16 << 24) | 1}, name: 'GatewayIngress.flow_way0', alias: 'flow_way0', size: 65536, bitwidth: 64 },`);
    expect(text).toContain(`'GatewayIngress.drops': { id: ${(0x12 << 24) | 1}, name: 'GatewayIngress.drops', alias: 'drops', size: `);
    expect(text).toContain(`{ name: 'backend_id', bitwidth: 16 },`);
    expect(text).toContain(`egress_port: { id: 1, name: 'egress_port', bitwidth: 9 },`);
  });
});
