import { afterEach, describe, expect, it } from 'vitest';
import { GrpcStatus, P4RuntimeRpcError } from '../../core/p4runtime/status.ts';
import { uint128ToBigint } from '../../core/p4runtime/bytes.ts';
import { SetForwardingPipelineConfigRequest_Action } from '../../core/p4runtime/gen/p4/v1/p4runtime_pb.ts';
import { arbitrate, p4InfoFor, pushPipeline, readTestProgram, startTestTarget, type TestTarget } from './test-harness.ts';

let target: TestTarget | undefined;
afterEach(async () => {
  await target?.close();
  target = undefined;
});

describe('arbitration over StreamChannel', () => {
  it('makes the higher election id primary, the other a backup, and fails over when the primary leaves', async () => {
    target = await startTestTarget();
    const a = target.client();
    const b = target.client();
    const sa = arbitrate(a, 10n);
    const ra = await sa.next('arbitration');
    expect(ra.status?.code).toBe(GrpcStatus.OK);
    expect(uint128ToBigint(ra.electionId!)).toBe(10n);
    const sb = arbitrate(b, 5n);
    const rb = await sb.next('arbitration');
    expect(rb.status?.code).toBe(GrpcStatus.ALREADY_EXISTS);
    expect(uint128ToBigint(rb.electionId!)).toBe(10n);

    // Only the primary may write the pipeline.
    await expect(pushPipeline(b, readTestProgram(), 5n)).rejects.toMatchObject({ grpcCode: GrpcStatus.PERMISSION_DENIED });
    await pushPipeline(a, readTestProgram(), 10n);

    sa.stream.cancel();
    const promoted = await sb.next('arbitration');
    expect(promoted.status?.code).toBe(GrpcStatus.OK);
    expect(uint128ToBigint(promoted.electionId!)).toBe(5n);
    await pushPipeline(b, readTestProgram(), 5n);
  });

  it('accepts a pipeline without election id while no client is connected, as PI does', async () => {
    target = await startTestTarget();
    const client = target.client();
    const source = readTestProgram();
    await client.setForwardingPipelineConfig({
      deviceId: 1n, action: SetForwardingPipelineConfigRequest_Action.VERIFY_AND_COMMIT,
      config: { p4info: p4InfoFor(source), p4DeviceConfig: new TextEncoder().encode(source) },
    });
    expect(target.host.pipeline).toBeDefined();
    const stream = arbitrate(client, 1n);
    await stream.next('arbitration');
    await expect(client.write({ deviceId: 1n, updates: [] })).rejects.toMatchObject({ grpcCode: GrpcStatus.PERMISSION_DENIED });
  });

  it('tells every stream when a higher id takes over', async () => {
    target = await startTestTarget();
    const sa = arbitrate(target.client(), 10n);
    await sa.next('arbitration');
    const sc = arbitrate(target.client(), 30n);
    expect((await sc.next('arbitration')).status?.code).toBe(GrpcStatus.OK);
    const demoted = await sa.next('arbitration');
    expect(demoted.status?.code).toBe(GrpcStatus.ALREADY_EXISTS);
    expect(uint128ToBigint(demoted.electionId!)).toBe(30n);
  });

  it('ends a stream with INVALID_ARGUMENT for a duplicate election id and NOT_FOUND for another device', async () => {
    target = await startTestTarget();
    await arbitrate(target.client(), 10n).next('arbitration');
    const dup = arbitrate(target.client(), 10n);
    await dup.closed();
    expect((dup.error as P4RuntimeRpcError).grpcCode).toBe(GrpcStatus.INVALID_ARGUMENT);
    const other = arbitrate(target.client(), 11n, 2n);
    await other.closed();
    expect((other.error as P4RuntimeRpcError).grpcCode).toBe(GrpcStatus.NOT_FOUND);
    expect(target.server.arbitration.primaryElectionId()).toBe(10n);
  });

  it('refuses PacketOut from a backup with a StreamError', async () => {
    target = await startTestTarget();
    const primary = target.client();
    await arbitrate(primary, 10n).next('arbitration');
    await pushPipeline(primary, readTestProgram(), 10n);
    const backup = arbitrate(target.client(), 1n);
    await backup.next('arbitration');
    backup.stream.send({ update: { case: 'packet', value: { payload: new Uint8Array(14) } } });
    const err = await backup.next('error');
    expect(err.canonicalCode).toBe(GrpcStatus.PERMISSION_DENIED);
    expect(err.details.case).toBe('packetOut');
  });
});
