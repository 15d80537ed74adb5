/**
 * For tests: simple_switch_grpc processes standing in for a deployment's switches, one a name,
 * each started with `--no-p4` (the controller pushes the pipeline over P4Runtime), its own free
 * loopback ports for gRPC and Thrift, and optionally veth pairs so a test can send frames into it.
 * Tools are found by bmv2-tests' finder (SIMPLE_SWITCH_GRPC and P4C, then PATH). Everything the
 * fleet starts, `close()` stops, also when starting fails half-way; a process exit hook kills
 * what is left if the test worker dies first.
 */
import { connect } from 'node:net';
import { findBmv2, type Bmv2Tools } from '../../bmv2-tests/dsl/runner.ts';
import { isExecutable } from '../../generator/tools.ts';
import { freeLoopbackPort, hasThrift, simpleSwitchArgs, SwitchProcess } from '../../bmv2-tests/bmv2/switch-process.ts';
import { createVethPair, removeStaleVethPairs, removeVethPair, vethPairNames, type VethPair } from '../../bmv2-tests/bmv2/veth.ts';
import { InterfacePort } from '../../target/ports/interface-port.ts';
import { ControllerError } from './errors.ts';

export type Bmv2Availability = { readonly available: true; readonly tools: Bmv2Tools } | { readonly available: false; readonly reason: string };

/** Whether this machine can run the BMv2 variant, and if not, why (for the skipped suite's name). */
export function bmv2Availability(env: NodeJS.ProcessEnv = process.env, exists: (path: string) => boolean = isExecutable): Bmv2Availability {
  const tools = findBmv2(env, exists);
  if (tools === undefined) return { available: false, reason: 'BMv2 not found: set SIMPLE_SWITCH_GRPC and P4C (or put simple_switch_grpc and p4c on PATH)' };
  // The controller reads and clears the gateways' flow registers, which BMv2 serves only over Thrift.
  if (!hasThrift(tools.simpleSwitchGrpc)) return { available: false, reason: `${tools.simpleSwitchGrpc} was built without Thrift (no --thrift-port): its registers are unreachable` };
  return { available: true, tools };
}

export interface Bmv2SwitchSpec {
  readonly name: string;
  readonly deviceId: number;
  /** Switch ports a test sends frames into (a veth pair each; needs root and the packet addon). */
  readonly ports?: readonly number[];
}

/** BMv2 sends packets to the controller on this port; none of our programs uses it, but it is set as on a real deployment. */
export const BMV2_CPU_PORT = 255;
const START_TIMEOUT_MS = 15_000;
/** Veth instance numbers of the fleet, far from bmv2-tests' own counter that starts at 0. */
let nextInstance = 4096;

export class Bmv2FleetSwitch {
  process: SwitchProcess | undefined;
  grpcPort = 0;
  thriftPort = 0;
  readonly pairs: VethPair[] = [];
  readonly ports = new Map<number, InterfacePort>();

  constructor(readonly spec: Bmv2SwitchSpec) {}

  get address(): string {
    return `127.0.0.1:${this.grpcPort}`;
  }

  /** Its Thrift runtime service (registers). */
  get thrift(): { readonly host: string; readonly port: number } {
    return { host: '127.0.0.1', port: this.thriftPort };
  }

  /** Sends a frame into the switch on `port` (the test's end of that port's veth pair). */
  send(port: number, frame: Uint8Array): void {
    const p = this.ports.get(port);
    if (p === undefined) throw new ControllerError('CONTROLLER_BAD_OPTIONS', `${this.spec.name} has no test port ${port} (give it in ports)`);
    p.send(frame);
  }
}

const live = new Set<Bmv2FleetSwitch>();
let exitHook = false;

function installExitHook(): void {
  if (exitHook) return;
  exitHook = true;
  process.once('exit', () => {
    for (const sw of live) sw.process?.killNow();
  });
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

async function launch(tools: Bmv2Tools, sw: Bmv2FleetSwitch): Promise<void> {
  sw.grpcPort = await freeLoopbackPort();
  sw.thriftPort = await freeLoopbackPort();
  const proc = SwitchProcess.start(tools.simpleSwitchGrpc, simpleSwitchArgs({
    deviceId: sw.spec.deviceId,
    interfaces: new Map(sw.pairs.map((p) => [p.port, p.a])),
    grpcPort: sw.grpcPort,
    thriftPort: sw.thriftPort,
    cpuPort: BMV2_CPU_PORT,
  }));
  sw.process = proc;
  const deadline = Date.now() + START_TIMEOUT_MS;
  // Both servers listen only once the switch is up; the Thrift one comes first, gRPC last.
  for (const port of [sw.thriftPort, sw.grpcPort]) {
    while (!(await accepts(port))) {
      if (!proc.running) throw proc.failure(`simple_switch_grpc for ${sw.spec.name} exited while starting`);
      if (Date.now() > deadline) throw proc.failure(`simple_switch_grpc for ${sw.spec.name}: nothing on 127.0.0.1:${port} within ${START_TIMEOUT_MS} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

async function stopSwitch(sw: Bmv2FleetSwitch, removePairs: boolean): Promise<void> {
  await sw.process?.stop();
  sw.process = undefined;
  if (!removePairs) return;
  for (const p of sw.ports.values()) await p.close().catch(() => undefined);
  sw.ports.clear();
  for (const pair of sw.pairs.splice(0)) await removeVethPair(pair);
  live.delete(sw);
}

export class Bmv2Fleet {
  private constructor(
    readonly tools: Bmv2Tools,
    readonly switches: ReadonlyMap<string, Bmv2FleetSwitch>,
  ) {}

  static async start(tools: Bmv2Tools, specs: readonly Bmv2SwitchSpec[]): Promise<Bmv2Fleet> {
    installExitHook();
    const switches = new Map<string, Bmv2FleetSwitch>();
    const fleet = new Bmv2Fleet(tools, switches);
    try {
      if (specs.some((s) => (s.ports ?? []).length > 0)) await removeStaleVethPairs();
      for (const spec of specs) {
        const sw = new Bmv2FleetSwitch(spec);
        switches.set(spec.name, sw);
        live.add(sw);
        const instance = nextInstance++;
        for (const port of [...new Set(spec.ports ?? [])].sort((a, b) => a - b)) {
          const pair = vethPairNames(process.pid, instance, port);
          await createVethPair(pair);
          sw.pairs.push(pair);
        }
        await launch(tools, sw);
        for (const pair of sw.pairs) sw.ports.set(pair.port, InterfacePort.open({ number: pair.port, ifname: pair.b }));
      }
      return fleet;
    } catch (err) {
      await fleet.close();
      throw err;
    }
  }

  get(name: string): Bmv2FleetSwitch {
    const sw = this.switches.get(name);
    if (sw === undefined) throw new ControllerError('CONTROLLER_BAD_OPTIONS', `no BMv2 switch named ${name}`);
    return sw;
  }

  /** Kills the switch and starts a fresh one (no pipeline, new ports) on the same veth pairs. */
  async restart(name: string): Promise<Bmv2FleetSwitch> {
    const sw = this.get(name);
    await stopSwitch(sw, false);
    await launch(this.tools, sw);
    return sw;
  }

  async close(): Promise<void> {
    for (const sw of this.switches.values()) await stopSwitch(sw, true);
  }
}
