import { afterEach, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { create } from '@bufbuild/protobuf';
import { P4RuntimeError } from './errors.ts';
import {
  ForwardingPipelineConfigSchema,
  ReadResponseSchema,
  StreamMessageResponseSchema,
  Update_Type,
  type ForwardingPipelineConfig,
  type ReadResponse,
  type StreamMessageResponse,
} from './gen/p4/v1/p4runtime_pb.ts';
import {
  addP4RuntimeService,
  createP4RuntimeClient,
  P4RUNTIME_SERVER_OPTIONS,
  type P4RuntimeClient,
  type P4RuntimeHandlers,
} from './service.ts';
import { GrpcStatus, P4RuntimeRpcError, writeErrorStatus } from './status.ts';

/**
 * An echo server, not a switch: Write fails updates that name table 0, Read returns each
 * requested entity in its own response, StreamChannel answers arbitration with OK and every
 * PacketOut with a PacketIn carrying the same payload.
 */
function echoHandlers(): P4RuntimeHandlers {
  let pipeline: ForwardingPipelineConfig | undefined;
  return {
    write(request) {
      const outcomes = request.updates.map((u) =>
        u.entity?.entity.case === 'tableEntry' && u.entity.entity.value.tableId === 0
          ? { canonicalCode: GrpcStatus.NOT_FOUND, message: 'table id 0 does not exist' }
          : {},
      );
      if (outcomes.some((o) => o.canonicalCode !== undefined)) {
        const status = writeErrorStatus(outcomes);
        return Promise.reject(new P4RuntimeRpcError({ grpcCode: status.code, message: status.message, status }));
      }
      return Promise.resolve({ $typeName: 'p4.v1.WriteResponse' });
    },
    async *read(request) {
      for (const entity of request.entities) yield create(ReadResponseSchema, { entities: [entity] });
    },
    setForwardingPipelineConfig(request) {
      pipeline = request.config;
      return Promise.resolve({ $typeName: 'p4.v1.SetForwardingPipelineConfigResponse' });
    },
    getForwardingPipelineConfig() {
      if (pipeline === undefined) {
        return Promise.reject(new P4RuntimeError('FAILED_PRECONDITION', 'no forwarding pipeline installed'));
      }
      return Promise.resolve({ $typeName: 'p4.v1.GetForwardingPipelineConfigResponse', config: pipeline });
    },
    capabilities() {
      return Promise.resolve({ $typeName: 'p4.v1.CapabilitiesResponse', p4runtimeApiVersion: '1.3.0' });
    },
    streamChannel(call) {
      call.on('data', (m) => {
        if (m.update.case === 'arbitration') {
          call.write(
            create(StreamMessageResponseSchema, {
              update: {
                case: 'arbitration',
                value: {
                  deviceId: m.update.value.deviceId,
                  electionId: m.update.value.electionId,
                  status: { code: GrpcStatus.OK },
                },
              },
            }),
          );
        } else if (m.update.case === 'packet') {
          call.write(
            create(StreamMessageResponseSchema, { update: { case: 'packet', value: { payload: m.update.value.payload } } }),
          );
        }
      });
      call.on('end', () => call.end());
    },
  };
}

let server: grpc.Server | undefined;
let client: P4RuntimeClient | undefined;

async function start(handlers: P4RuntimeHandlers): Promise<P4RuntimeClient> {
  server = new grpc.Server(P4RUNTIME_SERVER_OPTIONS);
  addP4RuntimeService(server, handlers);
  const port = await new Promise<number>((resolve, reject) =>
    server!.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  client = createP4RuntimeClient(`127.0.0.1:${port}`);
  return client;
}

afterEach(() => {
  client?.close();
  server?.forceShutdown();
  client = undefined;
  server = undefined;
});

const tableUpdate = (tableId: number) => ({
  type: Update_Type.INSERT,
  entity: { entity: { case: 'tableEntry' as const, value: { tableId } } },
});

describe('P4Runtime over gRPC', () => {
  it('answers unary calls with typed messages', async () => {
    const c = await start(echoHandlers());
    expect((await c.capabilities()).p4runtimeApiVersion).toBe('1.3.0');
    const response = await c.write({ deviceId: 1n, electionId: { low: 1n }, updates: [tableUpdate(33554433)] });
    expect(response.$typeName).toBe('p4.v1.WriteResponse');
  });

  it('carries per-update errors of a failed Write in the status details', async () => {
    const c = await start(echoHandlers());
    const failure = await c
      .write({ updates: [tableUpdate(33554433), tableUpdate(0), tableUpdate(0)] })
      .then(() => undefined, (e: unknown) => e);
    expect(failure).toBeInstanceOf(P4RuntimeRpcError);
    const e = failure as P4RuntimeRpcError;
    expect(e.code).toBe('UNKNOWN');
    expect(e.updates.map((u) => [u.index, u.codeName, u.message])).toEqual([
      [1, 'NOT_FOUND', 'table id 0 does not exist'],
      [2, 'NOT_FOUND', 'table id 0 does not exist'],
    ]);
    expect(e.isNotFound()).toBe(true);
  });

  it('maps a thrown P4lbError with a gRPC code name onto that status', async () => {
    const c = await start(echoHandlers());
    const e = await c.getForwardingPipelineConfig({}).then(() => undefined, (x: unknown) => x as P4RuntimeRpcError);
    expect(e?.grpcCode).toBe(GrpcStatus.FAILED_PRECONDITION);
    expect(e?.isPipelineMissing()).toBe(true);
    const config = create(ForwardingPipelineConfigSchema, {
      p4info: { pkgInfo: { arch: 'v1model' } },
      p4DeviceConfig: new Uint8Array(5 * 1024 * 1024).fill(0x7b),
      cookie: { cookie: 42n },
    });
    await c.setForwardingPipelineConfig({ action: 3, config });
    const got = await c.getForwardingPipelineConfig({});
    expect(got.config?.cookie?.cookie).toBe(42n);
    expect(got.config?.p4DeviceConfig.length).toBe(5 * 1024 * 1024);
  });

  it('streams Read responses as an async iterable', async () => {
    const c = await start(echoHandlers());
    const ids: number[] = [];
    const responses: ReadResponse[] = [];
    for await (const r of c.read({ entities: [1, 2, 3].map((id) => ({ entity: { case: 'tableEntry', value: { tableId: id } } })) })) {
      responses.push(r);
      const entity = r.entities[0]?.entity;
      if (entity?.case === 'tableEntry') ids.push(entity.value.tableId);
    }
    expect(responses).toHaveLength(3);
    expect(ids).toEqual([1, 2, 3]);
  });

  it('cancels the Read call when the consumer stops early', async () => {
    const handlers = echoHandlers();
    let produced = 0;
    let sawCancel = false;
    handlers.read = async function* (_request, context) {
      for (let i = 0; i < 10_000; i++) {
        if (context.cancelled()) {
          sawCancel = true;
          return;
        }
        produced++;
        yield create(ReadResponseSchema, { entities: [{ entity: { case: 'tableEntry', value: { tableId: i } } }] });
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    };
    const c = await start(handlers);
    let taken = 0;
    for await (const _ of c.read({})) {
      if (++taken === 3) break;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(taken).toBe(3);
    expect(produced).toBeLessThan(10_000);
    expect(sawCancel).toBe(true);
  });

  it('reports a failing Read handler as a P4RuntimeRpcError from the iterator', async () => {
    const handlers = echoHandlers();
    handlers.read = async function* () {
      yield create(ReadResponseSchema, {});
      throw new P4RuntimeError('UNIMPLEMENTED', 'register reads are not supported');
    };
    const c = await start(handlers);
    const seen: ReadResponse[] = [];
    const error = await (async () => {
      for await (const r of c.read({})) seen.push(r);
    })().then(() => undefined, (x: unknown) => x as P4RuntimeRpcError);
    expect(seen).toHaveLength(1);
    expect(error?.code).toBe('UNIMPLEMENTED');
  });

  it('runs StreamChannel both ways: arbitration and packet I/O', async () => {
    const c = await start(echoHandlers());
    const stream = c.streamChannel();
    stream.send({ update: { case: 'arbitration', value: { deviceId: 1n, electionId: { high: 0n, low: 7n } } } });
    stream.send({ update: { case: 'packet', value: { payload: Uint8Array.of(1, 2, 3) } } });
    const received: StreamMessageResponse[] = [];
    for await (const m of stream) {
      received.push(m);
      if (received.length === 2) stream.end();
    }
    const [arbitration, packet] = received;
    expect(arbitration?.update.case).toBe('arbitration');
    if (arbitration?.update.case === 'arbitration') {
      expect(arbitration.update.value.electionId?.low).toBe(7n);
      expect(arbitration.update.value.status?.code).toBe(GrpcStatus.OK);
    }
    expect(packet?.update.case).toBe('packet');
    if (packet?.update.case === 'packet') expect([...packet.update.value.payload]).toEqual([1, 2, 3]);
  });

  it('ends StreamChannel iteration quietly after a local cancel', async () => {
    const c = await start(echoHandlers());
    const stream = c.streamChannel();
    stream.send({ update: { case: 'arbitration', value: { deviceId: 1n } } });
    const received: StreamMessageResponse[] = [];
    for await (const m of stream) {
      received.push(m);
      stream.cancel();
    }
    expect(received).toHaveLength(1);
  });

  it('rejects with UNAVAILABLE when nothing listens', async () => {
    client = createP4RuntimeClient('127.0.0.1:1');
    const e = await client
      .capabilities({}, { deadline: Date.now() + 2000 })
      .then(() => undefined, (x: unknown) => x as P4RuntimeRpcError);
    expect(e?.isUnavailable()).toBe(true);
  });
});
