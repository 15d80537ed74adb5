/**
 * Typed grpc-js plumbing for the P4Runtime service (`/p4.v1.P4Runtime/<Method>`), with
 * protobuf-es messages on both sides. The server side adapts promise / async-iterable handlers to
 * grpc-js and turns thrown errors into gRPC statuses (with google.rpc.Status details when the
 * error carries them); the client side promisifies unary calls, exposes Read as an async
 * iterable and StreamChannel as a typed duplex, and rejects with `P4RuntimeRpcError`.
 */
import * as grpc from '@grpc/grpc-js';
import {
  create,
  fromBinary,
  toBinary,
  type DescMessage,
  type MessageInitShape,
  type MessageShape,
} from '@bufbuild/protobuf';
import { P4lbError } from '../errors.ts';
import {
  CapabilitiesRequestSchema,
  CapabilitiesResponseSchema,
  GetForwardingPipelineConfigRequestSchema,
  GetForwardingPipelineConfigResponseSchema,
  ReadRequestSchema,
  ReadResponseSchema,
  SetForwardingPipelineConfigRequestSchema,
  SetForwardingPipelineConfigResponseSchema,
  StreamMessageRequestSchema,
  StreamMessageResponseSchema,
  WriteRequestSchema,
  WriteResponseSchema,
  type CapabilitiesRequest,
  type CapabilitiesResponse,
  type GetForwardingPipelineConfigRequest,
  type GetForwardingPipelineConfigResponse,
  type ReadRequest,
  type ReadResponse,
  type SetForwardingPipelineConfigRequest,
  type SetForwardingPipelineConfigResponse,
  type StreamMessageRequest,
  type StreamMessageResponse,
  type WriteRequest,
  type WriteResponse,
} from './gen/p4/v1/p4runtime_pb.ts';
import {
  decodeStatus,
  encodeStatus,
  grpcStatusCode,
  GrpcStatus,
  P4RuntimeRpcError,
  STATUS_DETAILS_KEY,
} from './status.ts';
import type { Status } from './gen/google/rpc/status_pb.ts';
import { decodeReadResponse, decodeWriteRequest, encodeReadResponse, encodeWriteRequest } from './write-codec.ts';

export const P4RUNTIME_SERVICE_NAME = 'p4.v1.P4Runtime';

/**
 * P4Info plus a BMv2 JSON easily exceeds gRPC's 4 MiB default; PI's server allows 256 MiB, and
 * so do our defaults for both ends.
 */
export const P4RUNTIME_MAX_MESSAGE_BYTES = 256 * 1024 * 1024;

/** grpc-js options for a P4Runtime server (message size limits as above). */
export const P4RUNTIME_SERVER_OPTIONS: grpc.ServerOptions = {
  'grpc.max_receive_message_length': P4RUNTIME_MAX_MESSAGE_BYTES,
  'grpc.max_send_message_length': P4RUNTIME_MAX_MESSAGE_BYTES,
};

function serializer<Desc extends DescMessage>(schema: Desc): (m: MessageShape<Desc>) => Buffer {
  return (m) => {
    const bytes = toBinary(schema, m);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
}

function deserializer<Desc extends DescMessage>(schema: Desc): (b: Buffer) => MessageShape<Desc> {
  return (b) => fromBinary(schema, b);
}

function method<Req extends DescMessage, Res extends DescMessage>(
  name: string,
  request: Req,
  response: Res,
  kind: { requestStream: boolean; responseStream: boolean },
): grpc.MethodDefinition<MessageShape<Req>, MessageShape<Res>> {
  return {
    path: `/${P4RUNTIME_SERVICE_NAME}/${name}`,
    ...kind,
    requestSerialize: serializer(request),
    requestDeserialize: deserializer(request),
    responseSerialize: serializer(response),
    responseDeserialize: deserializer(response),
  };
}

const UNARY = { requestStream: false, responseStream: false };

/** The raw grpc-js handler shape of the service, keyed by the proto method names. */
export interface P4RuntimeGrpcHandlers extends grpc.UntypedServiceImplementation {
  Write: grpc.handleUnaryCall<WriteRequest, WriteResponse>;
  Read: grpc.handleServerStreamingCall<ReadRequest, ReadResponse>;
  SetForwardingPipelineConfig: grpc.handleUnaryCall<
    SetForwardingPipelineConfigRequest,
    SetForwardingPipelineConfigResponse
  >;
  GetForwardingPipelineConfig: grpc.handleUnaryCall<
    GetForwardingPipelineConfigRequest,
    GetForwardingPipelineConfigResponse
  >;
  StreamChannel: grpc.handleBidiStreamingCall<StreamMessageRequest, StreamMessageResponse>;
  Capabilities: grpc.handleUnaryCall<CapabilitiesRequest, CapabilitiesResponse>;
}

/** Write carries the big batches: its request goes through the hand-written hot-path codec. */
const writeMethod: grpc.MethodDefinition<WriteRequest, WriteResponse> = {
  ...method('Write', WriteRequestSchema, WriteResponseSchema, UNARY),
  requestSerialize: (m) => {
    const bytes = encodeWriteRequest(m);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  },
  requestDeserialize: (b) => decodeWriteRequest(b),
};

/** Read-backs of whole slot tables: responses through the same hot-path codec. */
const readMethod: grpc.MethodDefinition<ReadRequest, ReadResponse> = {
  ...method('Read', ReadRequestSchema, ReadResponseSchema, { requestStream: false, responseStream: true }),
  responseSerialize: (m) => {
    const bytes = encodeReadResponse(m);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  },
  responseDeserialize: (b) => decodeReadResponse(b),
};

export const P4RuntimeServiceDefinition = {
  Write: writeMethod,
  Read: readMethod,
  SetForwardingPipelineConfig: method(
    'SetForwardingPipelineConfig',
    SetForwardingPipelineConfigRequestSchema,
    SetForwardingPipelineConfigResponseSchema,
    UNARY,
  ),
  GetForwardingPipelineConfig: method(
    'GetForwardingPipelineConfig',
    GetForwardingPipelineConfigRequestSchema,
    GetForwardingPipelineConfigResponseSchema,
    UNARY,
  ),
  StreamChannel: method('StreamChannel', StreamMessageRequestSchema, StreamMessageResponseSchema, {
    requestStream: true,
    responseStream: true,
  }),
  Capabilities: method('Capabilities', CapabilitiesRequestSchema, CapabilitiesResponseSchema, UNARY),
} satisfies grpc.ServiceDefinition<P4RuntimeGrpcHandlers>;

// ------------------------------------------------------------------------------------- server

/** What a unary or Read handler learns about its call. */
export interface P4RuntimeCallContext {
  readonly metadata: grpc.Metadata;
  readonly peer: string;
  /** True once the client has cancelled or the deadline has passed. */
  readonly cancelled: () => boolean;
}

/**
 * Handlers for `addP4RuntimeService`. Throw a `P4RuntimeRpcError` (with a google.rpc.Status for
 * Write batches, see `writeErrorStatus`) or a `P4lbError` whose code is a gRPC code name to
 * answer with that status; anything else becomes UNKNOWN.
 */
export interface P4RuntimeHandlers {
  write(request: WriteRequest, context: P4RuntimeCallContext): Promise<WriteResponse>;
  read(request: ReadRequest, context: P4RuntimeCallContext): AsyncIterable<ReadResponse>;
  setForwardingPipelineConfig(
    request: SetForwardingPipelineConfigRequest,
    context: P4RuntimeCallContext,
  ): Promise<SetForwardingPipelineConfigResponse>;
  getForwardingPipelineConfig(
    request: GetForwardingPipelineConfigRequest,
    context: P4RuntimeCallContext,
  ): Promise<GetForwardingPipelineConfigResponse>;
  capabilities(request: CapabilitiesRequest, context: P4RuntimeCallContext): Promise<CapabilitiesResponse>;
  /** The session stream; the handler owns the call until it ends it. */
  streamChannel(call: grpc.ServerDuplexStream<StreamMessageRequest, StreamMessageResponse>): void;
}

/** A gRPC status with google.rpc.Status details in its trailer, ready for grpc-js. */
export function statusToServiceError(status: Status): Partial<grpc.StatusObject> {
  const metadata = new grpc.Metadata();
  metadata.set(STATUS_DETAILS_KEY, Buffer.from(encodeStatus(status)));
  return { code: status.code, details: status.message, metadata };
}

/** How a thrown value is reported to the client. */
export function errorToServiceError(error: unknown): Partial<grpc.StatusObject> {
  if (error instanceof P4RuntimeRpcError) {
    return error.status !== undefined
      ? statusToServiceError(error.status)
      : { code: error.grpcCode, details: error.message };
  }
  if (error instanceof P4lbError) {
    const code = grpcStatusCode(error.code);
    return { code: code ?? GrpcStatus.UNKNOWN, details: error.describe() };
  }
  return { code: GrpcStatus.UNKNOWN, details: error instanceof Error ? error.message : String(error) };
}

function contextOf(call: grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>) {
  return { metadata: call.metadata, peer: call.getPeer(), cancelled: () => call.cancelled };
}

function unary<Req, Res>(
  handler: (request: Req, context: P4RuntimeCallContext) => Promise<Res>,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    handler(call.request, contextOf(call)).then(
      (response) => callback(null, response),
      (error: unknown) => callback(errorToServiceError(error), null),
    );
  };
}

function drainOrCancel(call: grpc.ServerWritableStream<unknown, unknown>): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      call.off('drain', done);
      call.off('cancelled', done);
      resolve();
    };
    call.on('drain', done);
    call.on('cancelled', done);
  });
}

function serverStreaming<Req, Res>(
  handler: (request: Req, context: P4RuntimeCallContext) => AsyncIterable<Res>,
): grpc.handleServerStreamingCall<Req, Res> {
  return (call) => {
    void (async () => {
      try {
        for await (const response of handler(call.request, contextOf(call))) {
          if (call.cancelled) return;
          // Respect back-pressure: wait for the transport to drain before producing more.
          if (!call.write(response)) await drainOrCancel(call);
        }
        call.end();
      } catch (error) {
        if (!call.cancelled) call.emit('error', errorToServiceError(error));
      }
    })();
  };
}

/** Adapts `handlers` to grpc-js and registers them on `server`. */
export function addP4RuntimeService(server: grpc.Server, handlers: P4RuntimeHandlers): void {
  const implementation: P4RuntimeGrpcHandlers = {
    Write: unary((r, c) => handlers.write(r, c)),
    Read: serverStreaming((r, c) => handlers.read(r, c)),
    SetForwardingPipelineConfig: unary((r, c) => handlers.setForwardingPipelineConfig(r, c)),
    GetForwardingPipelineConfig: unary((r, c) => handlers.getForwardingPipelineConfig(r, c)),
    StreamChannel: (call) => handlers.streamChannel(call),
    Capabilities: unary((r, c) => handlers.capabilities(r, c)),
  };
  server.addService(P4RuntimeServiceDefinition, implementation);
}

// ------------------------------------------------------------------------------------- client

export interface P4RuntimeClientOptions {
  /** Defaults to insecure (what BMv2 serves). */
  readonly credentials?: grpc.ChannelCredentials;
  /** Extra grpc-js channel options, merged over the message size defaults. */
  readonly channelOptions?: grpc.ChannelOptions;
}

export interface P4RuntimeCallOptions {
  /** Deadline as a Date or milliseconds since the epoch. */
  readonly deadline?: Date | number;
  readonly metadata?: grpc.Metadata;
}

/** Converts a grpc-js error (with its status-details trailer, if any) to `P4RuntimeRpcError`. */
export function toP4RuntimeRpcError(error: unknown, methodName?: string): P4RuntimeRpcError {
  if (error instanceof P4RuntimeRpcError) return error;
  const e = error as Partial<grpc.ServiceError>;
  const raw = e.metadata?.get(STATUS_DETAILS_KEY)[0];
  let status: Status | undefined;
  if (raw instanceof Uint8Array) {
    try {
      status = decodeStatus(raw);
    } catch {
      status = undefined;
    }
  }
  return new P4RuntimeRpcError({
    grpcCode: typeof e.code === 'number' ? e.code : GrpcStatus.UNKNOWN,
    message: e.details ?? (error instanceof Error ? error.message : String(error)),
    status,
    ...(methodName === undefined ? {} : { method: methodName }),
    cause: error,
  });
}

/** StreamChannel as seen by the client: send requests, iterate responses. */
export interface P4RuntimeStream extends AsyncIterable<StreamMessageResponse> {
  /** Queues a request; false means the transport buffer is full (wait for `drain` on `call`). */
  send(message: MessageInitShape<typeof StreamMessageRequestSchema>): boolean;
  /** Half-closes: no more requests; responses keep flowing until the server ends. */
  end(): void;
  /** Tears the stream down; iteration then ends without an error. */
  cancel(): void;
  readonly call: grpc.ClientDuplexStream<StreamMessageRequest, StreamMessageResponse>;
}

export interface P4RuntimeClient {
  write(request: MessageInitShape<typeof WriteRequestSchema>, options?: P4RuntimeCallOptions): Promise<WriteResponse>;
  /** Server-streaming; breaking out of the loop cancels the call. */
  read(request: MessageInitShape<typeof ReadRequestSchema>, options?: P4RuntimeCallOptions): AsyncIterable<ReadResponse>;
  setForwardingPipelineConfig(
    request: MessageInitShape<typeof SetForwardingPipelineConfigRequestSchema>,
    options?: P4RuntimeCallOptions,
  ): Promise<SetForwardingPipelineConfigResponse>;
  getForwardingPipelineConfig(
    request: MessageInitShape<typeof GetForwardingPipelineConfigRequestSchema>,
    options?: P4RuntimeCallOptions,
  ): Promise<GetForwardingPipelineConfigResponse>;
  capabilities(
    request?: MessageInitShape<typeof CapabilitiesRequestSchema>,
    options?: P4RuntimeCallOptions,
  ): Promise<CapabilitiesResponse>;
  streamChannel(options?: P4RuntimeCallOptions): P4RuntimeStream;
  /** Resolves when the channel is connected, rejects at the deadline. */
  waitForReady(deadline: Date | number): Promise<void>;
  close(): void;
  readonly grpcClient: grpc.Client;
}

function callOptions(options: P4RuntimeCallOptions | undefined): grpc.CallOptions {
  return options?.deadline === undefined ? {} : { deadline: options.deadline };
}

export function createP4RuntimeClient(address: string, options: P4RuntimeClientOptions = {}): P4RuntimeClient {
  const client = new grpc.Client(address, options.credentials ?? grpc.credentials.createInsecure(), {
    'grpc.max_receive_message_length': P4RUNTIME_MAX_MESSAGE_BYTES,
    'grpc.max_send_message_length': P4RUNTIME_MAX_MESSAGE_BYTES,
    ...options.channelOptions,
  });
  const def = P4RuntimeServiceDefinition;

  function unaryCall<Req extends DescMessage, Res>(
    name: keyof typeof P4RuntimeServiceDefinition,
    schema: Req,
    m: grpc.MethodDefinition<MessageShape<Req>, Res>,
  ) {
    return (request: MessageInitShape<Req> | undefined, opts?: P4RuntimeCallOptions): Promise<Res> =>
      new Promise<Res>((resolve, reject) => {
        client.makeUnaryRequest(
          m.path,
          m.requestSerialize,
          m.responseDeserialize,
          create(schema, request),
          opts?.metadata ?? new grpc.Metadata(),
          callOptions(opts),
          (error, response) => {
            if (error !== null) reject(toP4RuntimeRpcError(error, name));
            else resolve(response!);
          },
        );
      });
  }

  async function* read(
    request: MessageInitShape<typeof ReadRequestSchema>,
    opts?: P4RuntimeCallOptions,
  ): AsyncGenerator<ReadResponse> {
    const call = client.makeServerStreamRequest(
      def.Read.path,
      def.Read.requestSerialize,
      def.Read.responseDeserialize,
      create(ReadRequestSchema, request),
      opts?.metadata ?? new grpc.Metadata(),
      callOptions(opts),
    );
    let finished = false;
    try {
      for await (const response of call) yield response as ReadResponse;
      finished = true;
    } catch (error) {
      finished = true;
      throw toP4RuntimeRpcError(error, 'Read');
    } finally {
      if (!finished) call.cancel();
    }
  }

  function streamChannel(opts?: P4RuntimeCallOptions): P4RuntimeStream {
    const call = client.makeBidiStreamRequest(
      def.StreamChannel.path,
      def.StreamChannel.requestSerialize,
      def.StreamChannel.responseDeserialize,
      opts?.metadata ?? new grpc.Metadata(),
      callOptions(opts),
    );
    let cancelledLocally = false;
    return {
      call,
      send: (message) => call.write(create(StreamMessageRequestSchema, message)),
      end: () => call.end(),
      cancel: () => {
        cancelledLocally = true;
        call.cancel();
      },
      async *[Symbol.asyncIterator]() {
        try {
          for await (const response of call) yield response as StreamMessageResponse;
        } catch (error) {
          const code = (error as Partial<grpc.ServiceError>).code;
          if (cancelledLocally && code === GrpcStatus.CANCELLED) return;
          throw toP4RuntimeRpcError(error, 'StreamChannel');
        }
      },
    };
  }

  return {
    grpcClient: client,
    write: unaryCall('Write', WriteRequestSchema, def.Write),
    read,
    setForwardingPipelineConfig: unaryCall(
      'SetForwardingPipelineConfig',
      SetForwardingPipelineConfigRequestSchema,
      def.SetForwardingPipelineConfig,
    ),
    getForwardingPipelineConfig: unaryCall(
      'GetForwardingPipelineConfig',
      GetForwardingPipelineConfigRequestSchema,
      def.GetForwardingPipelineConfig,
    ),
    capabilities: unaryCall('Capabilities', CapabilitiesRequestSchema, def.Capabilities),
    streamChannel,
    waitForReady: (deadline) =>
      new Promise<void>((resolve, reject) =>
        client.waitForReady(deadline, (error) => (error === undefined || error === null ? resolve() : reject(error))),
      ),
    close: () => client.close(),
  };
}
