import { describe, it, expect } from 'vitest';
import { InterfacePort, resolveNetns } from './interface-port.ts';
import { loadPacketAddon, packetAddonAvailability } from './packet-addon.ts';

const MISSING = '/nonexistent/p4lb_packet.node';

describe('loading the packet addon', () => {
  it('says how to build the addon when it is missing', () => {
    expect(() => loadPacketAddon(MISSING)).toThrowError(
      expect.objectContaining({
        code: 'PORT_ADDON_MISSING',
        message: `the native packet addon is not built: ${MISSING} does not exist`,
        hint: expect.stringContaining('run `npm ci`') as unknown as string,
      }) as unknown as Error,
    );
    const availability = packetAddonAvailability(MISSING);
    expect(availability.available).toBe(false);
    if (!availability.available) expect(availability.reason).toContain('npm ci');
  });

  it('reports a file that is not an addon as a load failure', () => {
    expect(() => loadPacketAddon(new URL(import.meta.url).pathname)).toThrowError(
      expect.objectContaining({ code: 'PORT_ADDON_LOAD_FAILED' }) as unknown as Error,
    );
  });
});

describe('InterfacePort.open argument checks', () => {
  it('checks the port number and interface name before touching the addon', () => {
    expect(() => InterfacePort.open({ number: 511, ifname: 'veth0', addonPath: MISSING })).toThrowError(
      expect.objectContaining({ code: 'PORT_NUMBER_INVALID' }) as unknown as Error,
    );
    expect(() => InterfacePort.open({ number: 1, ifname: 'a/b', addonPath: MISSING })).toThrowError(
      expect.objectContaining({
        code: 'PORT_BINDING_INVALID',
        message: `port 1: interface name 'a/b' contains "/"`,
      }) as unknown as Error,
    );
    expect(() => InterfacePort.open({ number: 1, ifname: 'veth0', addonPath: MISSING })).toThrowError(
      expect.objectContaining({ code: 'PORT_ADDON_MISSING' }) as unknown as Error,
    );
  });

  it('takes a bare namespace name as one made by `ip netns add`', () => {
    expect(resolveNetns('lb1')).toBe('/var/run/netns/lb1');
    expect(resolveNetns('/proc/42/ns/net')).toBe('/proc/42/ns/net');
  });
});
