/**
 * The I/O driver of the connection state machine for one switch: opens the channel, runs the
 * StreamChannel session, ensures the pipeline when primary (again, with the same backoff, after a
 * refusal), reconnects with backoff, and tells
 * listeners what happened. Every I/O result is fed back as an event tagged with the connection
 * generation it belongs to, so answers from a torn-down connection are dropped.
 */
import { GrpcStatus } from '../../core/p4runtime/status.ts';
import { createP4RuntimeClient, type P4RuntimeClient } from '../../core/p4runtime/service.ts';
import { ClientError } from '../client/errors.ts';
import { TypedEvents } from '../client/events.ts';
import { SwitchClient, type PipelineConfig } from '../client/switch-client.ts';
import type { ArbitrationResult, StreamErrorEvent, SwitchStream } from '../client/switch-stream.ts';
import type { DigestListValue, PacketValue } from '../schema/codec.ts';
import { P4Schema } from '../schema/p4-schema.ts';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.ts';
import { INITIAL_STATE, transition, type ConnectionEvent, type ConnectionState, type Effect, type Phase } from './connection-state.ts';
import { pipelineCookie, samePipeline } from './pipeline.ts';

/** Timers, injectable so tests drive time. */
export interface Clock {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realClock: Clock = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface SwitchConnectionOptions {
  /** `host:port`, or a function read at each (re)connect (a switch that moved). */
  readonly address: string | (() => string);
  readonly deviceId?: bigint;
  readonly electionId: bigint;
  /** The pipeline this controller wants; without one the controller adopts what the switch runs. */
  readonly pipeline?: PipelineConfig;
  readonly backoff?: BackoffOptions;
  readonly clock?: Clock;
  /** [0, 1) samples for jitter. */
  readonly random?: () => number;
  /** How long to wait for the channel to come up before counting a failure, ms. */
  readonly connectTimeoutMs?: number;
  readonly callTimeoutMs?: number;
  /** Channel factory (tests, credentials). */
  readonly createRpc?: (address: string) => P4RuntimeClient;
}

export type SwitchConnectionEvents = {
  state: { readonly from: Phase; readonly to: Phase; readonly state: ConnectionState };
  'arbitration-result': ArbitrationResult;
  'lost-primary': { readonly primaryElectionId: bigint | undefined };
  'regained-primary': Record<string, never>;
  /** The pipeline is in place and this controller is primary: reconcile now. */
  'pipeline-ready': { readonly pushed: boolean; readonly client: SwitchClient };
  'reconnect-scheduled': { readonly attempt: number; readonly delayMs: number; readonly error: unknown };
  /** The pipeline could not be checked or pushed (`error` says why): tried again after `delayMs`. */
  'pipeline-retry-scheduled': { readonly attempt: number; readonly delayMs: number; readonly error: unknown };
  'stream-error': StreamErrorEvent;
  digest: DigestListValue;
  packetIn: PacketValue;
  error: { readonly error: unknown };
};

export class SwitchConnection {
  readonly events: TypedEvents<SwitchConnectionEvents>;
  private current: ConnectionState = INITIAL_STATE;
  private generation = 0;
  private activeClient: SwitchClient | undefined;
  private stream: SwitchStream | undefined;
  private reconnectTimer: unknown;
  private pipelineRetryTimer: unknown;
  private readonly clock: Clock;
  private readonly wanted: PipelineConfig | undefined;

  constructor(private readonly options: SwitchConnectionOptions) {
    this.clock = options.clock ?? realClock;
    this.events = new TypedEvents((error) => this.events.emit('error', { error }));
    this.wanted =
      options.pipeline === undefined
        ? undefined
        : { ...options.pipeline, cookie: options.pipeline.cookie ?? pipelineCookie(options.pipeline) };
  }

  get state(): ConnectionState {
    return this.current;
  }

  /** The client of the live connection (writes need primary: check `state.phase`). */
  get client(): SwitchClient | undefined {
    return this.activeClient;
  }

  get electionId(): bigint {
    return this.options.electionId;
  }

  start(): void {
    this.dispatch({ type: 'start' });
  }

  /** Ends the session (another controller takes over) and stops reconnecting. */
  stop(): void {
    this.dispatch({ type: 'stop' });
  }

  /** Resolves when the machine reaches `phase` (at once if it is there), rejects after `timeoutMs`. */
  waitFor(phase: Phase, timeoutMs = 5000): Promise<void> {
    if (this.current.phase === phase) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new ClientError('P4RT_TIMEOUT', `switch connection did not reach ${phase} within ${timeoutMs} ms (it is ${this.current.phase})`, { grpcCode: GrpcStatus.DEADLINE_EXCEEDED }));
      }, timeoutMs);
      const off = this.events.on('state', ({ to }) => {
        if (to !== phase) return;
        clearTimeout(timer);
        off();
        resolve();
      });
    });
  }

  /** Sends a PacketOut on the live session. */
  packetOut(packet: PacketValue): void {
    if (this.stream === undefined) throw new ClientError('P4RT_UNAVAILABLE', 'no live session with the switch', { grpcCode: GrpcStatus.UNAVAILABLE });
    this.stream.packetOut(packet);
  }

  private dispatch(event: ConnectionEvent, generation?: number): void {
    if (generation !== undefined && generation !== this.generation) return;
    const from = this.current;
    const t = transition(from, event);
    this.current = t.state;
    for (const effect of t.effects) this.run(effect, event);
    if (from.phase !== t.state.phase) this.events.emit('state', { from: from.phase, to: t.state.phase, state: t.state });
    for (const n of t.notices) {
      switch (n.type) {
        case 'lost-primary':
          this.events.emit('lost-primary', { primaryElectionId: n.primaryElectionId });
          break;
        case 'regained-primary':
          this.events.emit('regained-primary', {});
          break;
        case 'pipeline-ready':
          if (this.activeClient !== undefined) this.events.emit('pipeline-ready', { pushed: n.pushed, client: this.activeClient });
          break;
        case 'error':
          this.events.emit('error', { error: n.error });
          break;
      }
    }
  }

  private run(effect: Effect, cause: ConnectionEvent): void {
    switch (effect.kind) {
      case 'connect':
        this.connect();
        return;
      case 'open-stream':
        this.openStream();
        return;
      case 'ensure-pipeline':
        this.ensurePipeline();
        return;
      case 'close':
        this.teardown();
        return;
      case 'schedule-reconnect': {
        const delayMs = this.backoffDelay(effect.attempt);
        this.cancelReconnect();
        this.reconnectTimer = this.clock.setTimeout(() => {
          this.reconnectTimer = undefined;
          this.dispatch({ type: 'reconnect-due' });
        }, delayMs);
        this.events.emit('reconnect-scheduled', { attempt: effect.attempt, delayMs, error: cause.type === 'stream-error' ? cause.error : undefined });
        return;
      }
      case 'cancel-reconnect':
        this.cancelReconnect();
        return;
      case 'schedule-pipeline-retry': {
        const delayMs = this.backoffDelay(effect.attempt);
        const generation = this.generation;
        this.cancelPipelineRetry();
        this.pipelineRetryTimer = this.clock.setTimeout(() => {
          this.pipelineRetryTimer = undefined;
          this.dispatch({ type: 'pipeline-retry-due' }, generation);
        }, delayMs);
        this.events.emit('pipeline-retry-scheduled', { attempt: effect.attempt, delayMs, error: cause.type === 'pipeline-failed' ? cause.error : undefined });
        return;
      }
      case 'cancel-pipeline-retry':
        this.cancelPipelineRetry();
        return;
    }
  }

  private backoffDelay(attempt: number): number {
    return backoffDelay(attempt, this.options.backoff ?? DEFAULT_BACKOFF, (this.options.random ?? Math.random)());
  }

  private cancelReconnect(): void {
    if (this.reconnectTimer !== undefined) this.clock.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
  }

  private cancelPipelineRetry(): void {
    if (this.pipelineRetryTimer !== undefined) this.clock.clearTimeout(this.pipelineRetryTimer);
    this.pipelineRetryTimer = undefined;
  }

  private connect(): void {
    const generation = ++this.generation;
    const address = typeof this.options.address === 'function' ? this.options.address() : this.options.address;
    const rpc = (this.options.createRpc ?? createP4RuntimeClient)(address);
    const client = new SwitchClient({
      address,
      rpc,
      electionId: this.options.electionId,
      ...(this.options.deviceId === undefined ? {} : { deviceId: this.options.deviceId }),
      ...(this.options.callTimeoutMs === undefined ? {} : { callTimeoutMs: this.options.callTimeoutMs }),
      ...(this.wanted === undefined ? {} : { schema: P4Schema.fromP4Info(this.wanted.p4info) }),
    });
    this.activeClient = client;
    rpc.waitForReady(Date.now() + (this.options.connectTimeoutMs ?? 2000)).then(
      () => this.dispatch({ type: 'connected' }, generation),
      (error: unknown) => {
        const why = new ClientError('P4RT_UNAVAILABLE', `connect to ${address}: ${error instanceof Error ? error.message : String(error)}`, {
          grpcCode: GrpcStatus.UNAVAILABLE,
          cause: error,
        });
        this.dispatch({ type: 'stream-error', error: why }, generation);
      },
    );
  }

  private openStream(): void {
    const client = this.activeClient;
    if (client === undefined) return;
    const generation = this.generation;
    const stream = client.openStream();
    this.stream = stream;
    stream.on('arbitration', (a) => {
      if (generation !== this.generation) return;
      this.events.emit('arbitration-result', a);
      this.dispatch({ type: 'arbitration-result', primary: a.primary, primaryElectionId: a.primaryElectionId }, generation);
    });
    stream.on('digest', (d) => this.events.emit('digest', d));
    stream.on('packetIn', (p) => this.events.emit('packetIn', p));
    stream.on('streamError', (e) => this.events.emit('stream-error', e));
    stream.on('end', ({ error }) => {
      const why = error ?? new ClientError('P4RT_UNAVAILABLE', 'the switch ended the stream', { grpcCode: GrpcStatus.UNAVAILABLE });
      this.dispatch({ type: 'stream-error', error: why }, generation);
    });
  }

  private ensurePipeline(): void {
    const client = this.activeClient;
    if (client === undefined) return;
    const generation = this.generation;
    void (async () => {
      try {
        const installed = await client.getPipeline();
        const wanted = this.wanted;
        if (wanted === undefined) {
          if (installed?.p4info === undefined) throw new ClientError('P4RT_NO_PIPELINE', 'the switch runs no pipeline and none was given to push', { grpcCode: GrpcStatus.FAILED_PRECONDITION });
          client.schema = P4Schema.fromP4Info(installed.p4info);
          this.dispatch({ type: 'pipeline-pushed', pushed: false }, generation);
          return;
        }
        if (samePipeline(installed, wanted)) {
          this.dispatch({ type: 'pipeline-pushed', pushed: false }, generation);
          return;
        }
        await client.setPipeline(wanted);
        this.dispatch({ type: 'pipeline-pushed', pushed: true }, generation);
      } catch (error) {
        // Not primary any more: the arbitration update that follows moves the machine.
        if (error instanceof ClientError && error.isNotPrimary()) return;
        if (error instanceof ClientError && error.isUnavailable()) this.dispatch({ type: 'stream-error', error }, generation);
        else this.dispatch({ type: 'pipeline-failed', error }, generation);
      }
    })();
  }

  private teardown(): void {
    this.generation++;
    this.stream?.close();
    this.stream = undefined;
    this.activeClient?.rpc.close();
    this.activeClient = undefined;
  }
}
