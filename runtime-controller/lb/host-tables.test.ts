import { describe, expect, it } from 'vitest';
import { positionalIds } from '../../core/spec/ids.ts';
import { backendId, hostByName } from '../../core/spec/lookup.ts';
import { computeHostTables, replyGatewayOf } from './host-tables.ts';
import { HOST_P4 } from './p4-names.ts';
import { FIXTURE_EXPIRY, FIXTURE_KEYS, fixtureSpec } from './test-fixtures.ts';

const spec = fixtureSpec({ vms: [{ location: 'east' }, { location: 'west' }, { location: 'east' }], gateways: ['west', 'east'] });

describe('computeHostTables', () => {
  it('replies through the gateway of its own location, else the first gateway by name', () => {
    expect(replyGatewayOf(spec, hostByName(spec, 'host-east')).name).toBe('gw-1');
    expect(replyGatewayOf(spec, hostByName(spec, 'host-west')).name).toBe('gw-0');
    const noLocal = fixtureSpec({ vms: [{ location: 'central' }], gateways: ['west', 'east'] });
    expect(replyGatewayOf(noLocal, hostByName(noLocal, 'host-central')).name).toBe('gw-0');
  });

  it('knows each local VM, accepts every gateway for each VIP of it, and routes to every gateway', () => {
    const t = computeHostTables({ spec, ids: positionalIds(spec), host: 'host-east', keys: FIXTURE_KEYS, expiry: FIXTURE_EXPIRY });
    const ofTable = (table: string) => t.entries.filter((e) => e.table === table);
    expect(ofTable(HOST_P4.localVm).map((e) => e.params.vm_id)).toEqual([backendId(spec, 'vm-0'), backendId(spec, 'vm-2')]);
    expect(ofTable(HOST_P4.tokenTable)).toHaveLength(2 * 2); // 2 VMs x 2 gateways x 1 VIP
    expect(ofTable(HOST_P4.peerTable).map((e) => e.params.peer_addr)).toEqual(['10.0.0.2', '10.0.0.2']);
    expect(ofTable(HOST_P4.routes)).toHaveLength(2);
    expect(t.defaults).toEqual([{ table: HOST_P4.hostConfig, action: 'HostIngress.set_host', params: { underlay_addr: '10.0.1.1' } }]);
  });
});
