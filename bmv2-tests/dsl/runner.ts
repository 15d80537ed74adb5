/**
 * Which targets a packet-test suite runs on: always the embedded interpreter; BMv2 when
 * simple_switch_grpc and p4c can be found. Finding them is separated from the file system
 * (`exists`) so that the decision is testable.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { EmbeddedTarget } from './embedded-target.ts';
import type { PacketTestTarget } from './target.ts';

export interface TargetFactory {
  readonly name: string;
  create(): PacketTestTarget;
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

/** The executable named by `variable`, else `command` on PATH. */
function locate(env: NodeJS.ProcessEnv, variable: string, command: string, exists: (path: string) => boolean): string | undefined {
  const given = env[variable];
  if (given !== undefined && given !== '') return exists(given) ? given : undefined;
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, command);
    if (exists(candidate)) return candidate;
  }
  return undefined;
}

export function findBmv2(env: NodeJS.ProcessEnv, exists: (path: string) => boolean): Bmv2Tools | undefined {
  const simpleSwitchGrpc = locate(env, 'SIMPLE_SWITCH_GRPC', 'simple_switch_grpc', exists);
  const p4c = locate(env, 'P4C', 'p4c', exists);
  return simpleSwitchGrpc === undefined || p4c === undefined ? undefined : { simpleSwitchGrpc, p4c };
}

export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const EMBEDDED: TargetFactory = { name: 'embedded', create: () => new EmbeddedTarget() };

/** The plan for this machine. The BMv2 target is not written yet: found tools are reported, not run. */
export function planTargets(env: NodeJS.ProcessEnv = process.env, exists: (path: string) => boolean = isExecutable): TargetPlan {
  const bmv2 = findBmv2(env, exists);
  const summary =
    bmv2 === undefined
      ? 'BMv2 not found (set SIMPLE_SWITCH_GRPC and P4C): embedded target only'
      : `BMv2 found (${bmv2.simpleSwitchGrpc}, ${bmv2.p4c}) but its packet-test target is not implemented yet: embedded target only`;
  return { targets: [EMBEDDED], summary };
}
