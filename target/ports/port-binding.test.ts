import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { formatPortBinding, parsePortBinding, parsePortBindings } from './port-binding.ts';
import { PortError } from './port.ts';

function errorOf(fn: () => unknown): PortError {
  try {
    fn();
  } catch (error) {
    if (error instanceof PortError) return error;
    throw error;
  }
  throw new Error('expected a PortError');
}

describe('parsePortBinding', () => {
  it('parses N@ifname as simple_switch -i does', () => {
    expect(parsePortBinding('1@veth-a')).toEqual({ port: 1, ifname: 'veth-a' });
    expect(parsePortBinding('0@eth0')).toEqual({ port: 0, ifname: 'eth0' });
    expect(parsePortBinding('510@p4lbt-4194304')).toEqual({ port: 510, ifname: 'p4lbt-4194304' });
  });

  it("keeps everything after the first '@' as the interface name", () => {
    expect(parsePortBinding('2@br@x')).toEqual({ port: 2, ifname: 'br@x' });
  });

  it("names a missing '@'", () => {
    const e = errorOf(() => parsePortBinding('veth0'));
    expect(e.code).toBe('PORT_BINDING_INVALID');
    expect(e.message).toBe("port binding 'veth0': missing '@' between port number and interface");
    expect(e.hint).toBe('expected N@ifname, e.g. 1@veth0');
    expect(e.location).toEqual({ path: '-i' });
  });

  it('names a missing or non-decimal port number', () => {
    expect(errorOf(() => parsePortBinding('@veth0')).message).toBe("port binding '@veth0': missing port number before '@'");
    expect(errorOf(() => parsePortBinding('x1@veth0')).message).toBe(
      "port binding 'x1@veth0': port number 'x1' is not a decimal integer",
    );
    expect(errorOf(() => parsePortBinding('-1@veth0')).message).toContain("port number '-1'");
    expect(errorOf(() => parsePortBinding('1.5@veth0')).message).toContain("port number '1.5'");
    expect(errorOf(() => parsePortBinding(' 1@veth0')).message).toContain("port number ' 1'");
  });

  it('names a port number beyond 510, the drop port being 511', () => {
    const e = errorOf(() => parsePortBinding('511@veth0'));
    expect(e.message).toBe("port binding '511@veth0': port number 511 is out of range 0..510");
    expect(e.hint).toBe("511 is BMv2's drop port");
    expect(errorOf(() => parsePortBinding('99999999999999999999@v')).message).toContain('out of range');
  });

  it('names a bad interface name', () => {
    expect(errorOf(() => parsePortBinding('1@')).message).toBe("port binding '1@': missing interface name after '@'");
    expect(errorOf(() => parsePortBinding('1@abcdefghijklmnop')).message).toBe(
      "port binding '1@abcdefghijklmnop': interface name 'abcdefghijklmnop' is 16 bytes, longer than 15",
    );
    expect(errorOf(() => parsePortBinding('1@a/b')).message).toBe(`port binding '1@a/b': interface name 'a/b' contains "/"`);
    expect(errorOf(() => parsePortBinding('1@a b')).message).toContain('contains " "');
    expect(errorOf(() => parsePortBinding('1@eth0:1')).message).toContain('contains ":"');
    expect(errorOf(() => parsePortBinding('1@..')).message).toContain("interface name '..' is reserved");
  });

  it('uses the location the caller names', () => {
    expect(errorOf(() => parsePortBinding('1', { path: 'ports[3]' })).location).toEqual({ path: 'ports[3]' });
  });

  it('round-trips every valid binding through formatPortBinding', () => {
    const ifname = fc.stringMatching(/^[a-z][a-z0-9._-]{0,14}$/).filter((s) => s !== '.' && s !== '..');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 510 }), ifname, (port, name) => {
        const binding = { port, ifname: name };
        expect(parsePortBinding(formatPortBinding(binding))).toEqual(binding);
      }),
    );
  });
});

describe('parsePortBindings', () => {
  it('parses every -i value in order', () => {
    expect(parsePortBindings(['1@a', '2@b'])).toEqual([
      { port: 1, ifname: 'a' },
      { port: 2, ifname: 'b' },
    ]);
  });

  it('points at the bad value by index', () => {
    expect(errorOf(() => parsePortBindings(['1@a', 'b'])).location).toEqual({ path: '-i[1]' });
  });

  it('rejects a port or an interface bound twice', () => {
    const port = errorOf(() => parsePortBindings(['1@a', '1@b']));
    expect(port.code).toBe('PORT_BINDING_DUPLICATE');
    expect(port.message).toBe("port binding '1@b': port 1 is already bound by '1@a'");
    const ifname = errorOf(() => parsePortBindings(['1@a', '2@a']));
    expect(ifname.message).toBe("port binding '2@a': interface a is already bound by '1@a'");
    expect(ifname.location).toEqual({ path: '-i[1]' });
  });
});
