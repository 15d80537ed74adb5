/**
 * `p4lb target`: runs the embedded v1model target as a P4Runtime switch, the way BMv2's
 * simple_switch_grpc does: `--grpc ADDR`, `--device-id N`, `-i N@ifname` per port, `--cpu-port N`
 * for PacketIn/PacketOut. It starts with no pipeline; a controller pushes one (P4Info + the P4
 * source as p4_device_config). SIGTERM/SIGINT close the server and the ports and exit 0.
 */
import type { Command } from 'commander';
import { P4lbError } from '../../core/errors.ts';
import { InterfacePort } from '../../target/ports/interface-port.ts';
import { parsePortBindings, formatPortBinding, type PortBinding } from '../../target/ports/port-binding.ts';
import { checkPortNumber, type Port } from '../../target/ports/port.ts';
import { P4RuntimeTargetServer } from '../../target/server/server.ts';
import { SwitchHost, type TraceEvent } from '../../target/server/switch-host.ts';
import { firstSignal } from '../signals.ts';

/** simple_switch_grpc's defaults. */
export const DEFAULT_GRPC_ADDRESS = '127.0.0.1:9559';
export const DEFAULT_DEVICE_ID = 0n;

export interface TargetIo {
  readonly out: (line: string) => void;
  /** Opens a port for a binding; AF_PACKET interfaces by default (tests pass in-process ports). */
  readonly openPort: (binding: PortBinding, netns: string | undefined) => Port;
  /** Called once the server listens (tests use it to find the bound port). */
  readonly onStarted?: (running: RunningTarget) => void;
  /** Resolves when the command should stop; defaults to the first SIGTERM or SIGINT. */
  readonly stopSignal?: () => Promise<string>;
}

export interface TargetConfig {
  readonly grpcAddress: string;
  readonly deviceId: bigint;
  readonly bindings: readonly PortBinding[];
  readonly cpuPort: number | undefined;
  readonly trace: boolean;
  /** Network namespace the interfaces live in (`ip netns` name); undefined = this one. */
  readonly netns: string | undefined;
}

export interface RunningTarget {
  readonly server: P4RuntimeTargetServer;
  readonly host: SwitchHost;
  /** host:port actually bound (port 0 resolved). */
  readonly address: string;
  close(): Promise<void>;
}

interface RawOptions {
  grpc: string;
  deviceId: string;
  interface: string[];
  cpuPort?: string;
  trace?: boolean;
  netns?: string;
}

function usage(message: string, path: string): P4lbError {
  return new P4lbError('CLI_USAGE', message, { location: { path } });
}

/** Checks the command-line options; pure. */
export function parseTargetOptions(raw: RawOptions): TargetConfig {
  if (!/^[0-9]+$/.test(raw.deviceId)) throw usage(`device id '${raw.deviceId}' is not a non-negative integer`, '--device-id');
  const deviceId = BigInt(raw.deviceId);
  if (deviceId >= 1n << 64n) throw usage(`device id ${raw.deviceId} does not fit in 64 bits`, '--device-id');
  let cpuPort: number | undefined;
  if (raw.cpuPort !== undefined) {
    if (!/^[0-9]+$/.test(raw.cpuPort)) throw usage(`CPU port '${raw.cpuPort}' is not a port number`, '--cpu-port');
    cpuPort = checkPortNumber(Number(raw.cpuPort));
  }
  const bindings = parsePortBindings(raw.interface);
  if (cpuPort !== undefined && bindings.some((b) => b.port === cpuPort)) {
    throw usage(`port ${cpuPort} is the CPU port and cannot also be bound to an interface`, '-i');
  }
  const at = raw.grpc.lastIndexOf(':');
  if (at <= 0 || !/^[0-9]+$/.test(raw.grpc.slice(at + 1))) {
    throw usage(`gRPC address '${raw.grpc}' is not host:port`, '--grpc');
  }
  return { grpcAddress: raw.grpc, deviceId, bindings, cpuPort, trace: raw.trace ?? false, netns: raw.netns };
}

export function formatTrace(event: TraceEvent): string[] {
  return [`[port ${event.ingressPort}] packet in`, ...event.lines.map((l) => `[port ${event.ingressPort}]   ${l}`), `[port ${event.ingressPort}] ${event.outcome}`];
}

/** Opens the ports, starts the server; on failure closes whatever was opened. */
export async function startTarget(config: TargetConfig, io: Pick<TargetIo, 'out' | 'openPort'>): Promise<RunningTarget> {
  const host = new SwitchHost({
    deviceId: config.deviceId,
    cpuPort: config.cpuPort,
    trace: config.trace,
    onTrace: (event) => {
      for (const line of formatTrace(event)) io.out(line);
    },
  });
  try {
    for (const b of config.bindings) host.addPort(io.openPort(b, config.netns));
    const server = new P4RuntimeTargetServer(host);
    const port = await server.listen(config.grpcAddress);
    const address = `${config.grpcAddress.slice(0, config.grpcAddress.lastIndexOf(':'))}:${port}`;
    return { server, host, address, close: () => server.close() };
  } catch (err) {
    await host.close();
    throw err;
  }
}


const defaultIo: TargetIo = {
  out: (line) => console.log(line),
  openPort: (b, netns) => InterfacePort.open({ number: b.port, ifname: b.ifname, ...(netns === undefined ? {} : { netns }) }),
};

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function registerTarget(program: Command, io: Partial<TargetIo> = {}): void {
  const use: TargetIo = { ...defaultIo, ...io };
  program
    .command('target')
    .description('run the embedded v1model target as a P4Runtime switch (like simple_switch_grpc)')
    .option('--grpc <host:port>', 'address of the P4Runtime server', DEFAULT_GRPC_ADDRESS)
    .option('--device-id <n>', 'P4Runtime device id', DEFAULT_DEVICE_ID.toString())
    .option('-i, --interface <N@ifname>', 'bind switch port N to a network interface (repeatable)', collect, [])
    .option('--cpu-port <n>', 'port that carries PacketIn/PacketOut to and from the controller')
    .option('--trace', 'print each packet\'s path through the pipeline')
    .option('--netns <name>', 'open the interfaces inside this network namespace (the gRPC server stays in this one)')
    .action(async (raw: RawOptions) => {
      const config = parseTargetOptions(raw);
      // Listen for the stop signal before starting so an early SIGTERM is not lost.
      const stop = (use.stopSignal ?? firstSignal)();
      const running = await startTarget(config, use);
      const ports = config.bindings.map(formatPortBinding).join(', ') || 'none';
      use.out(
        `p4lb target: P4Runtime on ${running.address}, device id ${config.deviceId}, ports ${ports}` +
          (config.cpuPort === undefined ? '' : `, CPU port ${config.cpuPort}`),
      );
      use.onStarted?.(running);
      const signal = await stop;
      use.out(`p4lb target: ${signal}, shutting down`);
      await running.close();
      const c = running.host.counters;
      use.out(`p4lb target: ${c.received} packets in, ${c.sent} out, ${c.packetIns} to the controller, ${c.dropped} dropped, ${c.noSuchPort} to absent ports`);
      process.exitCode = 0;
    });
}
