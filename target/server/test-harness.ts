/**
 * For tests and harnesses: a running P4Runtime target on 127.0.0.1 with in-process ports, a typed
 * client, P4Info derived by our front end, and a reader that waits for stream messages.
 */
import { readFileSync } from 'node:fs';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { compileP4, deriveP4Info, formatP4InfoText } from '../../p4-frontend/index.ts';
import { createP4RuntimeClient, type P4RuntimeClient, type P4RuntimeStream } from '../../core/p4runtime/service.ts';
import { p4InfoFromText } from '../../core/p4runtime/text-format.ts';
import type { P4Info } from '../../core/p4runtime/gen/p4/config/v1/p4info_pb.ts';
import {
  SetForwardingPipelineConfigRequest_Action,
  type StreamMessageResponse,
  type WriteRequestSchema,
} from '../../core/p4runtime/gen/p4/v1/p4runtime_pb.ts';
import { uint128FromBigint } from '../../core/p4runtime/bytes.ts';
import type { P4RuntimeHandlers } from '../../core/p4runtime/service.ts';
import { GrpcStatus, P4RuntimeRpcError } from '../../core/p4runtime/status.ts';
import { InProcessPort } from '../ports/in-process-port.ts';
import { P4RuntimeTargetServer } from './server.ts';
import { SwitchHost, type SwitchHostOptions } from './switch-host.ts';

export const SERVER_TEST_PROGRAM = new URL('./testdata/server-test.p4', import.meta.url);

/** P4Info (protobuf) for a P4 source, the way p4lb's generator derives it. */
export function p4InfoFor(source: string, fileName = 'program.p4'): P4Info {
  return p4InfoFromText(formatP4InfoText(deriveP4Info(compileP4(source, fileName))));
}

/** RPCs a test can make its target refuse. */
export type RefusableRpc = 'write' | 'setForwardingPipelineConfig';

/**
 * Refusals a test arms on its target, test-only: the next `count` calls of an RPC fail with
 * `code` before the server looks at them, as a switch that refuses them would. Nothing is armed
 * unless a test calls `refuse`.
 */
export class TargetFaults {
  private readonly armed = new Map<RefusableRpc, { left: number; code: number }>();
  /** Calls refused so far, by RPC. */
  readonly refused: Record<RefusableRpc, number> = { write: 0, setForwardingPipelineConfig: 0 };

  refuse(rpc: RefusableRpc, count: number, code: number = GrpcStatus.INTERNAL): void {
    this.armed.set(rpc, { left: count, code });
  }

  /** Throws the armed refusal of `rpc`, if one is left. */
  check(rpc: RefusableRpc): void {
    const a = this.armed.get(rpc);
    if (a === undefined || a.left <= 0) return;
    a.left--;
    this.refused[rpc]++;
    throw new P4RuntimeRpcError({ grpcCode: a.code, message: `${rpc} refused by the test (fault injection)` });
  }
}

/** The target server with a test's refusals in front of Write and SetForwardingPipelineConfig. */
class FaultInjectingServer extends P4RuntimeTargetServer {
  constructor(
    host: SwitchHost,
    private readonly faults: TargetFaults,
  ) {
    super(host);
  }

  override handlers(): P4RuntimeHandlers {
    const inner = super.handlers();
    return {
      ...inner,
      write: async (request, context) => {
        this.faults.check('write');
        return inner.write(request, context);
      },
      setForwardingPipelineConfig: async (request, context) => {
        this.faults.check('setForwardingPipelineConfig');
        return inner.setForwardingPipelineConfig(request, context);
      },
    };
  }
}

export interface TestTarget {
  readonly server: P4RuntimeTargetServer;
  /** Refusals a test may arm (none by default). */
  readonly faults: TargetFaults;
  readonly host: SwitchHost;
  readonly address: string;
  /** The far ends of the switch's ports: send into the switch, listen to what leaves. */
  readonly wires: ReadonlyMap<number, InProcessPort>;
  client(): P4RuntimeClient;
  close(): Promise<void>;
}

export async function startTestTarget(
  options: { ports?: readonly number[] } & Partial<SwitchHostOptions> = {},
): Promise<TestTarget> {
  const host = new SwitchHost({ deviceId: 1n, cpuPort: 255, ...options });
  const wires = new Map<number, InProcessPort>();
  for (const n of options.ports ?? []) {
    const [near, far] = InProcessPort.pair(n);
    host.addPort(near);
    wires.set(n, far);
  }
  const faults = new TargetFaults();
  const server = new FaultInjectingServer(host, faults);
  const port = await server.listen('127.0.0.1:0');
  const address = `127.0.0.1:${port}`;
  const clients: P4RuntimeClient[] = [];
  return {
    server,
    faults,
    host,
    address,
    wires,
    client: () => {
      const c = createP4RuntimeClient(address);
      clients.push(c);
      return c;
    },
    close: async () => {
      for (const c of clients) c.close();
      await server.close(200);
      await Promise.all([...wires.values()].map((w) => w.close()));
    },
  };
}

/** The message a StreamMessageResponse carries for one `update` case. */
export type StreamPayload<C> = StreamMessageResponse['update'] extends infer U ? (U extends { case: C; value: infer V } ? V : never) : never;

/** Collects a client stream's responses; `next` waits for the next one of a kind. */
export class StreamReader {
  private readonly queue: StreamMessageResponse[] = [];
  private waiter: (() => void) | undefined;
  ended = false;
  error: unknown;

  constructor(readonly stream: P4RuntimeStream) {
    void (async () => {
      try {
        for await (const m of stream) {
          this.queue.push(m);
          this.waiter?.();
        }
      } catch (err) {
        this.error = err;
      }
      this.ended = true;
      this.waiter?.();
    })();
  }

  async next<C extends NonNullable<StreamMessageResponse['update']['case']>>(kind: C, timeoutMs = 2000): Promise<StreamPayload<C>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.queue.findIndex((m) => m.update.case === kind);
      if (i >= 0) {
        const [m] = this.queue.splice(i, 1);
        return m!.update.value as StreamPayload<C>;
      }
      if (this.ended) throw new Error(`stream ended while waiting for ${kind}: ${String(this.error)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${kind} message within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  /** Messages of `kind` received so far and not yet taken. */
  pending(kind: string): number {
    return this.queue.filter((m) => m.update.case === kind).length;
  }

  /** Resolves once the stream has ended (by the server or a cancel). */
  async closed(timeoutMs = 2000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended) {
      if (Date.now() > deadline) throw new Error('stream still open');
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

/** Opens a stream and sends a MasterArbitrationUpdate. */
export function arbitrate(client: P4RuntimeClient, electionId: bigint, deviceId = 1n): StreamReader {
  const stream = client.streamChannel();
  stream.send({ update: { case: 'arbitration', value: { deviceId, electionId: uint128FromBigint(electionId) } } });
  return new StreamReader(stream);
}

export function electionId(id: bigint): { high: bigint; low: bigint } {
  return uint128FromBigint(id);
}

/** SetForwardingPipelineConfig(VERIFY_AND_COMMIT) of a P4 source with its derived P4Info. */
export async function pushPipeline(
  client: P4RuntimeClient,
  source: string,
  id: bigint,
  action = SetForwardingPipelineConfigRequest_Action.VERIFY_AND_COMMIT,
): Promise<P4Info> {
  const p4info = p4InfoFor(source);
  await client.setForwardingPipelineConfig({
    deviceId: 1n,
    electionId: electionId(id),
    action,
    config: { p4info, p4DeviceConfig: new TextEncoder().encode(source), cookie: { cookie: 42n } },
  });
  return p4info;
}

export function readTestProgram(): string {
  return readFileSync(SERVER_TEST_PROGRAM, 'utf8');
}

/** Named ids from a P4Info, for readable tests. */
export function ids(p4info: P4Info) {
  const by = <T extends { preamble?: { name: string; id: number } | undefined }>(list: readonly T[], name: string): number => {
    const found = list.find((x) => x.preamble?.name === name || x.preamble?.name.endsWith(`.${name}`));
    if (found?.preamble === undefined) throw new Error(`no ${name} in the P4Info`);
    return found.preamble.id;
  };
  return {
    table: (name: string) => by(p4info.tables, name),
    action: (name: string) => by(p4info.actions, name),
    counter: (name: string) => by(p4info.counters, name),
    directCounter: (name: string) => by(p4info.directCounters, name),
    register: (name: string) => by(p4info.registers, name),
    digest: (name: string) => by(p4info.digests, name),
  };
}

export type WriteInit = MessageInitShape<typeof WriteRequestSchema>;

export function writeRequest(id: bigint, updates: NonNullable<WriteInit['updates']>): WriteInit {
  return { deviceId: 1n, electionId: electionId(id), updates };
}
