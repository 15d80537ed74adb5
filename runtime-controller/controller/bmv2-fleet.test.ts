import { describe, expect, it } from 'vitest';
import { bmv2Availability, Bmv2Fleet } from './bmv2-fleet.ts';

describe('BMv2 fleet for the controller tests', () => {
  it('is unavailable, saying which variables to set, when neither tool can be found', () => {
    const none = bmv2Availability({ PATH: '/nowhere' }, () => false);
    expect(none).toEqual({ available: false, reason: expect.stringContaining('SIMPLE_SWITCH_GRPC and P4C') as unknown });
    // A variable naming no executable is not silently replaced by PATH.
    expect(bmv2Availability({ SIMPLE_SWITCH_GRPC: '/missing/simple_switch_grpc', P4C: '/missing/p4c', PATH: '/opt/bin' }, (p) => p.startsWith('/opt/bin/')).available).toBe(false);
  });

  it('fails to start with the switch command and how it ended when simple_switch_grpc exits at once', async () => {
    // /bin/false stands in for a switch that dies on start (bad option, port in use).
    const err = await Bmv2Fleet.start({ simpleSwitchGrpc: '/bin/false', p4c: '/bin/false' }, [{ name: 'gw-east', deviceId: 1 }]).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'BMV2_START_FAILED', message: expect.stringMatching(/gw-east exited while starting[\s\S]*--device-id 1 --no-p4 --thrift-port \d+ -- --grpc-server-addr 127\.0\.0\.1:\d+ --cpu-port 255[\s\S]*exited \(code 1/) as unknown });
  });
});
