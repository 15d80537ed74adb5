import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isIpv4OrArp, isNotKernelNoise } from './bmv2-switch.ts';
import { stfPorts, vethProblem } from './stf-bmv2.ts';
import { dieWithParent, simpleSwitchArgs } from './switch-process.ts';
import { decodeRegisterReadReply, encodeRegisterRead } from './thrift-registers.ts';
import { ownerPid, vethPairNames } from './veth.ts';
import { parseStf } from '../stf/parser.ts';

describe('veth names', () => {
  it('fit IFNAMSIZ and give back their pid, for any pid, instance and port', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4194304 }), fc.integer({ min: 0, max: 1295 }), fc.integer({ min: 0, max: 510 }), (pid, instance, port) => {
        const pair = vethPairNames(pid, instance, port);
        expect(pair.a.length).toBeLessThanOrEqual(15);
        expect(pair.b).toBe(`${pair.a.slice(0, -1)}b`);
        expect(ownerPid(pair.a)).toBe(pid);
      }),
    );
    expect(ownerPid('eth0')).toBeUndefined();
  });
});

describe('simple_switch_grpc command line', () => {
  it('binds each port to its interface, gRPC to loopback, the CPU port after --', () => {
    expect(simpleSwitchArgs({ deviceId: 1, interfaces: new Map([[2, 'b'], [1, 'a']]), grpcPort: 50001, thriftPort: 9099, cpuPort: 255 })).toEqual([
      '--device-id', '1', '--no-p4', '--thrift-port', '9099', '-i', '1@a', '-i', '2@b', '--', '--grpc-server-addr', '127.0.0.1:50001', '--cpu-port', '255',
    ]);
    expect(simpleSwitchArgs({ deviceId: 1, interfaces: new Map(), grpcPort: 5 })).toEqual(['--device-id', '1', '--no-p4', '--', '--grpc-server-addr', '127.0.0.1:5']);
  });

  it('runs the switch under setpriv --pdeathsig KILL when there is one, so it dies with the tests', () => {
    expect(dieWithParent('/s', ['-x'], '/usr/bin/setpriv')).toEqual({ command: '/usr/bin/setpriv', args: ['--pdeathsig', 'KILL', '--', '/s', '-x'] });
    expect(dieWithParent('/s', ['-x'], undefined)).toEqual({ command: '/s', args: ['-x'] });
  });
});

describe('Thrift bm_register_read', () => {
  it('writes a multiplexed binary CALL with cxt 0, the name and the index', () => {
    const b = encodeRegisterRead(7, 'R', 3);
    expect(b.toString('hex')).toBe(
      '80010001' + '00000019' + Buffer.from('standard:bm_register_read').toString('hex') + '00000007' +
        '080001' + '00000000' + '0b0002' + '00000001' + '52' + '080003' + '00000003' + '00',
    );
  });

  it('reads a value reply (unsigned), an exception, and waits for more bytes', () => {
    const name = Buffer.from('bm_register_read');
    const head = (type: number) => Buffer.concat([Buffer.from([0x80, 0x01, 0x00, type]), Buffer.from([0, 0, 0, name.length]), name, Buffer.from([0, 0, 0, 7])]);
    const value = Buffer.concat([head(2), Buffer.from('0a0000ffffffffffffffff00', 'hex')]);
    expect(decodeRegisterReadReply(value)).toEqual({ kind: 'value', seqid: 7, value: (1n << 64n) - 1n, length: value.length });
    expect(decodeRegisterReadReply(value.subarray(0, value.length - 1))).toEqual({ kind: 'incomplete' });
    const ouch = Buffer.concat([head(2), Buffer.from('0c0001' + '08000100000002' + '00' + '00', 'hex')]);
    expect(decodeRegisterReadReply(ouch)).toMatchObject({ kind: 'error', message: 'index out of bounds' });
  });
});

describe('frame filters', () => {
  const frame = (dst: string, etherType: number) => new Uint8Array([...Buffer.from(dst, 'hex'), 0, 0, 0, 0, 0, 1, etherType >> 8, etherType & 255]);
  it('takes IPv4 and ARP for packet tests, everything but IPv6 multicast and link-local for STF', () => {
    expect(isIpv4OrArp(frame('020000000001', 0x0800))).toBe(true);
    expect(isIpv4OrArp(frame('333300000016', 0x86dd))).toBe(false);
    expect(isNotKernelNoise(frame('c9a03ed357d8', 0x0000))).toBe(true);
    expect(isNotKernelNoise(frame('333300000016', 0x86dd))).toBe(false);
    expect(isNotKernelNoise(frame('0180c200000e', 0x88cc))).toBe(false);
  });
});

describe('STF on BMv2, pure parts', () => {
  const stf = parseStf('packet 3 AABBCCDDEEFF00112233445508000000\nexpect 4 AABB****\npacket 5 0102\n', 't.stf');

  it('lists the ports to bind and the frames a veth cannot carry', () => {
    expect(stfPorts([stf])).toEqual([3, 4, 5]);
    expect(vethProblem(stf)).toBe('line 3 sends a 2-byte frame; a veth carries no frame shorter than an Ethernet header (14 bytes)');
  });
});
