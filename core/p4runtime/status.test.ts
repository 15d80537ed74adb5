import { describe, expect, it } from 'vitest';
import { create } from '@bufbuild/protobuf';
import { anyPack, DurationSchema } from '@bufbuild/protobuf/wkt';
import { StatusSchema } from './gen/google/rpc/status_pb.ts';
import { ErrorSchema } from './gen/p4/v1/p4runtime_pb.ts';
import {
  decodeStatus,
  encodeStatus,
  failedUpdates,
  grpcStatusCode,
  grpcStatusName,
  GrpcStatus,
  P4RuntimeRpcError,
  updateErrorsFromStatus,
  writeErrorStatus,
} from './status.ts';

describe('gRPC status codes', () => {
  it('maps names and numbers both ways', () => {
    expect(GrpcStatus.NOT_FOUND).toBe(5);
    expect(grpcStatusName(6)).toBe('ALREADY_EXISTS');
    expect(grpcStatusName(99)).toBe('CODE_99');
    expect(grpcStatusCode('OUT_OF_RANGE')).toBe(11);
    expect(grpcStatusCode('toString')).toBeUndefined();
  });
});

describe('Write error status', () => {
  const status = writeErrorStatus([
    {},
    { canonicalCode: GrpcStatus.ALREADY_EXISTS, message: 'entry exists', space: 'p4lb', code: 7 },
    { canonicalCode: GrpcStatus.OK },
    { canonicalCode: GrpcStatus.OUT_OF_RANGE, message: 'value does not fit in bit<9>' },
  ]);

  it('is UNKNOWN with one p4.v1.Error per update, packed as Any', () => {
    expect(status.code).toBe(GrpcStatus.UNKNOWN);
    expect(status.message).toBe('2 of 4 updates failed');
    expect(status.details).toHaveLength(4);
    expect(status.details.every((d) => d.typeUrl === 'type.googleapis.com/p4.v1.Error')).toBe(true);
  });

  it('decodes from its binary form to per-update errors with their indices', () => {
    const decoded = decodeStatus(encodeStatus(status));
    expect(updateErrorsFromStatus(decoded).map((u) => u.codeName)).toEqual(['OK', 'ALREADY_EXISTS', 'OK', 'OUT_OF_RANGE']);
    expect(failedUpdates(decoded)).toEqual([
      { index: 1, canonicalCode: 6, codeName: 'ALREADY_EXISTS', message: 'entry exists', space: 'p4lb', code: 7 },
      { index: 3, canonicalCode: 11, codeName: 'OUT_OF_RANGE', message: 'value does not fit in bit<9>', space: '', code: 0 },
    ]);
  });

  it('keeps update indices when a detail of another type is present', () => {
    const mixed = create(StatusSchema, {
      code: 2,
      details: [
        anyPack(DurationSchema, create(DurationSchema, { seconds: 1n })),
        anyPack(ErrorSchema, create(ErrorSchema, { canonicalCode: 5, message: 'no such entry' })),
      ],
    });
    expect(failedUpdates(mixed).map((u) => [u.index, u.codeName])).toEqual([[1, 'NOT_FOUND']]);
  });

  it('rejects bytes that are not a Status', () => {
    expect(() => decodeStatus(Uint8Array.of(0xff, 0xff))).toThrow(/not a google.rpc.Status/);
  });
});

describe('P4RuntimeRpcError', () => {
  it('summarises failed updates and answers predicates from them', () => {
    const status = writeErrorStatus([{ canonicalCode: GrpcStatus.NOT_FOUND, message: 'gone' }, {}]);
    const e = new P4RuntimeRpcError({ grpcCode: status.code, message: status.message, status, method: 'Write' });
    expect(e.code).toBe('UNKNOWN');
    expect(e.message).toBe('1 of 2 updates failed: #0 NOT_FOUND gone');
    expect(e.location?.path).toBe('Write');
    expect(e.isNotFound()).toBe(true);
    expect(e.isAlreadyExists()).toBe(false);
    expect(new P4RuntimeRpcError({ grpcCode: 9, message: 'no pipeline' }).isPipelineMissing()).toBe(true);
    expect(new P4RuntimeRpcError({ grpcCode: 7, message: 'not primary' }).isNotPrimary()).toBe(true);
  });
});
