/**
 * Which targets a packet-test suite runs on: always the embedded interpreter; BMv2 when
 * simple_switch_grpc and p4c can be found (generator/tools.ts). Finding them is separated from the
 * file system (`exists`) so that the decision is testable.
 */
import { findTool, isExecutable, type ToolQuery } from '../../generator/tools.ts';
import { Bmv2Target } from '../bmv2/bmv2-target.ts';
import { EmbeddedTarget } from './embedded-target.ts';
import type { PacketTestTarget } from './target.ts';

export interface TargetOptions {
  /** Every switch port the scenario sends on or expects on (BMv2 makes a veth pair for each). */
  readonly ports?: readonly number[];
}

/** What a target can do beyond sending packets, so a suite can run a scenario where it can. */
export interface TargetCapabilities {
  /** `advanceClock`: the embedded target's clock is simulated; BMv2 runs on real time. */
  readonly clock: boolean;
  /**
   * `register` for any value: BMv2 serves registers only through Thrift (P4Runtime register reads
   * are UNIMPLEMENTED), whose i64 answer saturates values ≥ 2^63 at 2^63−1.
   */
  readonly registers: boolean;
}

export interface TargetFactory {
  readonly name: string;
  readonly capabilities: TargetCapabilities;
  create(options?: TargetOptions): PacketTestTarget;
}

export interface TargetPlan {
  readonly targets: readonly TargetFactory[];
  /** One line for the test log: what runs and why the rest does not. */
  readonly summary: string;
}

export interface Bmv2Tools {
  readonly simpleSwitchGrpc: string;
  readonly p4c: string;
}

// BMv2 is optional: a variable naming a missing file means "not found", which the suites report.
const SIMPLE_SWITCH_GRPC: ToolQuery = { variable: 'SIMPLE_SWITCH_GRPC', command: 'simple_switch_grpc', badVariable: 'not-found' };
const P4C: ToolQuery = { variable: 'P4C', command: 'p4c', badVariable: 'not-found' };

export function findBmv2(env: NodeJS.ProcessEnv = process.env, exists: (path: string) => boolean = isExecutable): Bmv2Tools | undefined {
  const simpleSwitchGrpc = findTool(SIMPLE_SWITCH_GRPC, env, exists);
  const p4c = findTool(P4C, env, exists);
  return simpleSwitchGrpc === undefined || p4c === undefined ? undefined : { simpleSwitchGrpc, p4c };
}

/** The file-system `exists` of planTargets, re-exported for the suites and commands that find BMv2 here. */

const EMBEDDED: TargetFactory = { name: 'embedded', capabilities: { clock: true, registers: true }, create: () => new EmbeddedTarget() };

/** BMv2's packet-test target for these tools. */
export function bmv2Factory(tools: Bmv2Tools): TargetFactory {
  return {
    name: 'bmv2',
    capabilities: { clock: false, registers: false },
    create: (options = {}) => new Bmv2Target({ tools, ports: options.ports ?? [] }),
  };
}

/** The plan for this machine: the embedded target, and BMv2 next to it when both tools are found. */
export function planTargets(env: NodeJS.ProcessEnv = process.env, exists: (path: string) => boolean = isExecutable): TargetPlan {
  const bmv2 = findBmv2(env, exists);
  if (bmv2 === undefined) return { targets: [EMBEDDED], summary: 'BMv2 not found (set SIMPLE_SWITCH_GRPC and P4C): embedded target only' };
  return {
    targets: [EMBEDDED, bmv2Factory(bmv2)],
    summary: `BMv2 found (${bmv2.simpleSwitchGrpc}, ${bmv2.p4c}): embedded and bmv2 targets`,
  };
}
