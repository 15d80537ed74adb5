import { afterEach, describe, expect, it } from 'vitest';
import { GetForwardingPipelineConfigRequest_ResponseType as ResponseType, SetForwardingPipelineConfigRequest_Action as Action } from '../../core/p4runtime/gen/p4/v1/p4runtime_pb.ts';
import { GrpcStatus, P4RuntimeRpcError } from '../../core/p4runtime/status.ts';
import { parseSpec } from '../../core/spec/load.ts';
import { readFileSync } from 'node:fs';
import { renderProgram } from '../../generator/render.ts';
import { gatewayViewModel } from '../../generator/view-model.ts';
import { arbitrate, electionId, p4InfoFor, pushPipeline, readTestProgram, startTestTarget, type TestTarget } from './test-harness.ts';

let target: TestTarget | undefined;
afterEach(async () => {
  await target?.close();
  target = undefined;
});

async function rejection(p: Promise<unknown>): Promise<P4RuntimeRpcError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(P4RuntimeRpcError);
  return err as P4RuntimeRpcError;
}

const source = readTestProgram();
const encode = (s: string) => new TextEncoder().encode(s);

describe('SetForwardingPipelineConfig / GetForwardingPipelineConfig', () => {
  it('answers Capabilities with API version 1.3.0', async () => {
    target = await startTestTarget();
    const caps = await target.client().capabilities({});
    expect(caps.p4runtimeApiVersion).toBe('1.3.0');
  });

  it('installs a pipeline from the primary and returns it per response type', async () => {
    target = await startTestTarget();
    const client = target.client();
    const stream = arbitrate(client, 5n);
    await stream.next('arbitration');
    const p4info = await pushPipeline(client, source, 5n);
    const all = await client.getForwardingPipelineConfig({ deviceId: 1n, responseType: ResponseType.ALL });
    expect(all.config?.p4info?.tables.map((t) => t.preamble?.name)).toEqual(p4info.tables.map((t) => t.preamble?.name));
    expect(new TextDecoder().decode(all.config?.p4DeviceConfig)).toBe(source);
    expect(all.config?.cookie?.cookie).toBe(42n);
    const cookie = await client.getForwardingPipelineConfig({ deviceId: 1n, responseType: ResponseType.COOKIE_ONLY });
    expect(cookie.config?.p4info).toBeUndefined();
    expect(cookie.config?.p4DeviceConfig.length).toBe(0);
    expect(cookie.config?.cookie?.cookie).toBe(42n);
    const info = await client.getForwardingPipelineConfig({ deviceId: 1n, responseType: ResponseType.P4INFO_AND_COOKIE });
    expect(info.config?.p4info).toBeDefined();
    expect(info.config?.p4DeviceConfig.length).toBe(0);
    const device = await client.getForwardingPipelineConfig({ deviceId: 1n, responseType: ResponseType.DEVICE_CONFIG_AND_COOKIE });
    expect(device.config?.p4info).toBeUndefined();
    expect(device.config?.p4DeviceConfig.length).toBeGreaterThan(0);
  });

  it('answers Get with FAILED_PRECONDITION before any pipeline, NOT_FOUND for another device', async () => {
    target = await startTestTarget();
    const client = target.client();
    expect((await rejection(client.getForwardingPipelineConfig({ deviceId: 1n }))).grpcCode).toBe(GrpcStatus.FAILED_PRECONDITION);
    expect((await rejection(client.getForwardingPipelineConfig({ deviceId: 9n }))).grpcCode).toBe(GrpcStatus.NOT_FOUND);
  });

  it('refuses Set from a client that is not the primary (PERMISSION_DENIED)', async () => {
    target = await startTestTarget();
    const client = target.client();
    const err = await rejection(pushPipeline(client, source, 5n));
    expect(err.grpcCode).toBe(GrpcStatus.PERMISSION_DENIED);
    const stream = arbitrate(client, 5n);
    await stream.next('arbitration');
    expect((await rejection(pushPipeline(client, source, 4n))).grpcCode).toBe(GrpcStatus.PERMISSION_DENIED);
  });

  it('refuses a P4Info that does not describe the program, naming the object (INVALID_ARGUMENT)', async () => {
    target = await startTestTarget();
    const client = target.client();
    await arbitrate(client, 1n).next('arbitration');
    const p4info = p4InfoFor(source);
    p4info.tables[0]!.preamble!.name = 'MyIngress.nope';
    p4info.registers[0]!.size = 99;
    const err = await rejection(client.setForwardingPipelineConfig({
      deviceId: 1n, electionId: electionId(1n), action: Action.VERIFY_AND_COMMIT,
      config: { p4info, p4DeviceConfig: encode(source) },
    }));
    expect(err.grpcCode).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(err.message).toContain("'MyIngress.nope'");

    const wide = p4InfoFor(source);
    wide.actions.find((a) => a.preamble?.name === 'MyIngress.forward')!.params[0]!.bitwidth = 16;
    const err2 = await rejection(client.setForwardingPipelineConfig({
      deviceId: 1n, electionId: electionId(1n), action: Action.VERIFY_AND_COMMIT,
      config: { p4info: wide, p4DeviceConfig: encode(source) },
    }));
    expect(err2.grpcCode).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(err2.message).toContain('MyIngress.forward');
  });

  it('refuses a device config that is not a valid P4 program (INVALID_ARGUMENT with its location)', async () => {
    target = await startTestTarget();
    const client = target.client();
    await arbitrate(client, 1n).next('arbitration');
    const err = await rejection(client.setForwardingPipelineConfig({
      deviceId: 1n, electionId: electionId(1n), action: Action.VERIFY_AND_COMMIT,
      config: { p4info: p4InfoFor(source), p4DeviceConfig: encode(source.replace('transition accept;', 'transition nowhere')) },
    }));
    expect(err.grpcCode).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(err.message).toContain('p4_device_config');
  });

  it('says so when the device config is BMv2 JSON (a controller that took it for simple_switch_grpc)', async () => {
    target = await startTestTarget();
    const client = target.client();
    await arbitrate(client, 1n).next('arbitration');
    const err = await rejection(client.setForwardingPipelineConfig({
      deviceId: 1n, electionId: electionId(1n), action: Action.VERIFY_AND_COMMIT,
      config: { p4info: p4InfoFor(source), p4DeviceConfig: encode('{\n  "header_types": [],\n  "program": "gateway.p4"\n}\n') },
    }));
    expect(err.grpcCode).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(err.message).toContain('BMv2 device config');
    expect(err.message).toContain('without --bmv2');
  });

  it('VERIFY installs nothing; VERIFY_AND_SAVE then COMMIT installs; COMMIT with nothing saved is FAILED_PRECONDITION', async () => {
    target = await startTestTarget();
    const client = target.client();
    await arbitrate(client, 1n).next('arbitration');
    await pushPipeline(client, source, 1n, Action.VERIFY);
    expect(target.host.pipeline).toBeUndefined();
    const commit = { deviceId: 1n, electionId: electionId(1n), action: Action.COMMIT };
    expect((await rejection(client.setForwardingPipelineConfig(commit))).grpcCode).toBe(GrpcStatus.FAILED_PRECONDITION);
    await pushPipeline(client, source, 1n, Action.VERIFY_AND_SAVE);
    expect(target.host.pipeline).toBeUndefined();
    await client.setForwardingPipelineConfig(commit);
    expect(target.host.pipeline).toBeDefined();
  });

  it('a new pipeline clears all state; RECONCILE_AND_COMMIT keeps it', async () => {
    target = await startTestTarget();
    const client = target.client();
    await arbitrate(client, 1n).next('arbitration');
    await pushPipeline(client, source, 1n);
    target.host.pipeline!.sw.registers.get('MyIngress.last_length')!.values[3] = 77n;
    await pushPipeline(client, source, 1n, Action.RECONCILE_AND_COMMIT);
    expect(target.host.pipeline!.sw.registers.get('MyIngress.last_length')!.values[3]).toBe(77n);
    await pushPipeline(client, source, 1n);
    expect(target.host.pipeline!.sw.registers.get('MyIngress.last_length')!.values[3]).toBe(0n);
  });

  it('accepts the generated gateway program with its P4Info', async () => {
    const spec = parseSpec(readFileSync(new URL('../../examples/example.yaml', import.meta.url), 'utf8'), 'example.yaml');
    const gateway = renderProgram('gateway', gatewayViewModel(spec, 'test'));
    target = await startTestTarget();
    const client = target.client();
    await arbitrate(client, 1n).next('arbitration');
    const p4info = await pushPipeline(client, gateway, 1n);
    expect(p4info.tables.length).toBeGreaterThan(3);
    expect(target.host.pipeline?.pipeline.tables.size).toBe(p4info.tables.length);
  });
});
