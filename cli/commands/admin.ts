/**
 * `p4lb status | drain <vm> | undrain <vm> | flows --gateway G [--backend VM] | reload |
 * backends add|remove <vip> <vm> | policy [show] | policy allow|remove <from> <to> |
 * policy same-vip on|off`: clients of a running controller's admin API (`p4lb run`).
 * `--api host:port` (default 127.0.0.1:9100) and `--token` or $P4LB_API_TOKEN; `--json` prints
 * the API's answer as it is.
 */
import { Argument, type Command } from 'commander';
import { P4lbError } from '../../core/errors.ts';
import { AdminClient, type BackendReply, type FlowsReply, type GatewaysReply, type PolicyReply, type PolicyRuleReply, type VipsReply } from '../../runtime-controller/api/client.ts';
import type { PolicyGrant } from '../../runtime-controller/controller/controller.ts';
import { INTERNET, type PolicyRule } from '../../runtime-controller/registry/policy.ts';
import type { SpecApplied, WriteOutcome } from '../../runtime-controller/controller/spec-change.ts';
import { API_TOKEN_ENV, DEFAULT_API_ADDRESS } from './run.ts';

export interface AdminIo {
  readonly env: NodeJS.ProcessEnv;
}

interface CommonOptions {
  api: string;
  token?: string;
  json?: boolean;
}

function clientOf(options: CommonOptions, env: NodeJS.ProcessEnv): AdminClient {
  const token = options.token ?? env[API_TOKEN_ENV];
  if (token === undefined || token === '') {
    throw new P4lbError('CLI_USAGE', `no API token: pass --token or set ${API_TOKEN_ENV}`, { location: { path: '--token' }, hint: 'p4lb run writes a generated token to <data-dir>/api-token' });
  }
  return new AdminClient({ api: options.api, token });
}

function table(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => r[i]!.length))) ?? [];
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd());
}

/** What `p4lb status` prints: switches, then each VIP's backends per gateway, then alarms. */
export function formatStatus(switches: GatewaysReply, vips: VipsReply): string {
  const lines: string[] = ['switches:'];
  const all = [...switches.gateways, ...switches.hosts];
  lines.push(...table(all.map((s) => [`  ${s.name}`, s.role, s.phase, s.primary ? 'primary' : 'not primary', s.address, s.lastError === undefined || s.lastError === null ? '' : `last error: ${s.lastError}`])));
  for (const vip of vips.vips) {
    const gws = Object.keys(vip.tableStatus);
    lines.push('', `VIP ${vip.name}  ${vip.address} ${vip.protocol}/${vip.ports.join(',')}  ${vip.mode}  tables: ${gws.map((g) => `${g} ${vip.tableStatus[g]}`).join(', ')}`);
    lines.push(...table(vip.backends.map((b) => [
      `  ${b.vm}`,
      ...gws.map((g) => {
        const s = b.gateways[g]!;
        return `${g}: ${s.health} ${s.slots} slots${s.backendEntry ? '' : ' (no entry)'}`;
      }),
      b.drained ? 'drained' : '',
    ])));
  }
  lines.push('', vips.alarms.length === 0 ? 'alarms: none' : 'alarms:');
  for (const a of vips.alarms) lines.push(`  ${a.code} ${a.message}`);
  return `${lines.join('\n')}\n`;
}

/** What `p4lb flows` prints: one line per pinned flow. */
export function formatFlows(reply: FlowsReply): string {
  const rows = [['  way', 'index', 'signature', 'backend', 'last seen (ticks)'], ...reply.flows.map((f) => [`  ${f.way}`, String(f.index), `0x${f.signature.toString(16).padStart(8, '0')}`, f.backend ?? `#${f.backendId}`, String(f.lastSeenTicks)])];
  const unreadable = reply.unreadable > 0 ? [`${reply.unreadable} more could not be read (the switch's register service cannot return values of 2^63 and more: BMv2's Thrift)`] : [];
  return `${[`${reply.gateway}: ${reply.count} pinned flow${reply.count === 1 ? '' : 's'}`, ...(reply.count === 0 ? [] : table(rows)), ...unreadable].join('\n')}\n`;
}

/** What a spec change added and removed, on one line: `VMs added: vm-a3; web: added vm-a3, removed vm-b2`. */
export function formatSpecApplied(applied: SpecApplied): string {
  const parts = [
    ...([['VMs added', applied.vmsAdded], ['VMs removed', applied.vmsRemoved], ['VIPs added', applied.vipsAdded], ['VIPs removed', applied.vipsRemoved]] as const)
      .filter(([, names]) => names.length > 0)
      .map(([what, names]) => `${what}: ${names.join(', ')}`),
    ...applied.backends.map((b) => `${b.vip}: ${[...(b.added.length > 0 ? [`added ${b.added.join(', ')}`] : []), ...(b.removed.length > 0 ? [`removed ${b.removed.join(', ')}`] : [])].join(', ')}`),
  ];
  return parts.length === 0 ? 'no VM, VIP or backend added or removed' : parts.join('; ');
}

/** What `p4lb backends add|remove` prints. */
export function formatBackendEdit(reply: BackendReply): string {
  const what = reply.changed ? `${reply.vm} ${reply.present ? 'added' : 'removed'}` : `${reply.vm} is ${reply.present ? 'already' : 'not'} a backend, nothing changed`;
  return `${reply.vip}: ${what}; backends${reply.changed ? ' now' : ''}: ${reply.backends.join(', ')}\n${formatPending(reply.applied.switches)}`;
}

/**
 * The switches a stored change has not reached yet, one line (`not yet written: gw-west (not
 * connected)`), or nothing when every switch took it; they get it when they are back.
 */
export function formatPending(switches: WriteOutcome | undefined): string {
  if (switches === undefined || switches.pending.length === 0) return '';
  return `not yet written: ${switches.pending.map((p) => `${p.switch} (${p.reason})`).join(', ')}; stored, they get it when they are back\n`;
}

const ruleText = (r: PolicyRule): string => `${r.from} ${r.to === INTERNET ? '->' : '<->'} ${r.to}`;

/** Why a pair may talk or a VM reach the Internet (the rules are listed above it). */
function why(g: PolicyGrant): string {
  switch (g.reason) {
    case 'same-vip':
      return `both serve ${g.vip ?? 'a VIP'}`;
    case 'serves-vip':
      return `serves ${g.vip ?? 'a VIP'}`;
    case 'rule':
      return 'a rule';
    case 'same-vm':
      return 'the same VM';
    case 'not-allowed':
      return 'not allowed';
  }
}

/**
 * What `p4lb policy` prints: the default, the rules, then what they allow: each conversation once
 * (the controller issues its tokens both ways) and the VMs with Internet egress.
 */
export function formatPolicy(policy: PolicyReply): string {
  const lines = [`same-VIP default: ${policy.sameVip ? 'on (VMs serving a common VIP may talk)' : 'off'}`];
  lines.push(policy.rules.length === 0 ? 'rules: none' : 'rules:');
  lines.push(...policy.rules.map((r) => `  ${ruleText(r)}`));
  const pairs = policy.vmPairs.filter((p) => p.from < p.to);
  lines.push(pairs.length === 0 ? 'VM pairs that may talk: none' : 'VM pairs that may talk:');
  lines.push(...table(pairs.map((p) => [`  ${p.from} <-> ${p.to}`, why(p)])));
  lines.push(policy.internetEgress.length === 0 ? 'Internet egress: none' : 'Internet egress:');
  lines.push(...table(policy.internetEgress.map((e) => [`  ${e.vm}`, why(e)])));
  return `${lines.join('\n')}\n`;
}

/** What `p4lb policy allow|remove` prints. */
export function formatPolicyRuleEdit(reply: PolicyRuleReply): string {
  const rule = ruleText(reply.rule);
  const what = reply.changed ? `${rule} ${reply.present ? 'allowed' : 'removed'}` : `${rule} is already allowed by a rule, nothing changed`;
  const pairs = reply.policy.vmPairs.filter((p) => p.from < p.to).length;
  return `${what}; ${pairs} VM pair${pairs === 1 ? '' : 's'} may talk, ${reply.policy.internetEgress.length} VM${reply.policy.internetEgress.length === 1 ? '' : 's'} reach the Internet\n${formatPending(reply.switches)}`;
}

function common(cmd: Command): Command {
  return cmd
    .option('--api <host:port|unix:path>', 'the controller\'s admin API', DEFAULT_API_ADDRESS)
    .option('--token <token>', `API bearer token (default: $${API_TOKEN_ENV})`)
    .option('--json', 'print the API\'s JSON answer');
}

function writer(command: Command): (s: string) => void {
  const output = command.configureOutput();
  return output.writeOut ?? ((s: string) => void process.stdout.write(s));
}

const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

export function registerAdmin(program: Command, io: Partial<AdminIo> = {}): void {
  const env = io.env ?? process.env;
  common(program.command('status').description('show the switches, the VIPs with their backends\' health and slots per gateway, and alarms'))
    .action(async (options: CommonOptions, command: Command) => {
      const client = clientOf(options, env);
      const [switches, vips] = [await client.gateways(), await client.vips()];
      writer(command)(options.json === true ? json({ ...switches, ...vips }) : formatStatus(switches, vips));
    });
  for (const verb of ['drain', 'undrain'] as const) {
    common(
      program
        .command(verb)
        .description(verb === 'drain' ? 'give a VM no new flows on any gateway (its pinned flows continue)' : 'give a drained VM new flows again')
        .argument('<vm>', 'VM name'),
    ).action(async (vm: string, options: CommonOptions, command: Command) => {
      const client = clientOf(options, env);
      const reply = verb === 'drain' ? await client.drain(vm) : await client.undrain(vm);
      writer(command)(options.json === true ? json(reply) : `${reply.vm}: ${reply.drained ? 'drained' : 'not drained'}; drained VMs: ${reply.drainedVms.length === 0 ? 'none' : reply.drainedVms.join(', ')}\n${formatPending(reply.switches)}`);
    });
  }
  common(
    program
      .command('flows')
      .description('list the flows a gateway has pinned in its flow-state registers')
      .requiredOption('--gateway <name>', 'gateway to read')
      .option('--backend <vm>', 'only flows pinned to this VM'),
  ).action(async (options: CommonOptions & { gateway: string; backend?: string }, command: Command) => {
    const client = clientOf(options, env);
    const reply = await client.flows({ gateway: options.gateway, ...(options.backend === undefined ? {} : { backend: options.backend }) });
    writer(command)(options.json === true ? json(reply) : formatFlows(reply));
  });
  common(program.command('reload').description('have the controller read its spec file again and apply it (as SIGHUP does)'))
    .action(async (options: CommonOptions, command: Command) => {
      const reply = await clientOf(options, env).reload();
      writer(command)(options.json === true ? json(reply) : `spec reloaded: ${formatSpecApplied(reply.applied)}\n${formatPending(reply.applied.switches)}`);
    });
  const backends = program.command('backends').description('add or remove a backend of a VIP, in the spec file and in the running controller');
  for (const verb of ['add', 'remove'] as const) {
    common(
      backends
        .command(verb)
        .description(verb === 'add' ? 'make a VM of the spec a backend of a VIP' : 'take a VM out of a VIP\'s backends (its flows on that VIP are rehashed)')
        .argument('<vip>', 'VIP name')
        .argument('<vm>', 'VM name'),
    ).action(async (vip: string, vm: string, options: CommonOptions, command: Command) => {
      const client = clientOf(options, env);
      const reply = verb === 'add' ? await client.addBackend(vip, vm) : await client.removeBackend(vip, vm);
      writer(command)(options.json === true ? json(reply) : formatBackendEdit(reply));
    });
  }

  const policy = program.command('policy').description('show or change the traffic policy: which VMs may talk to each other and reach the Internet');
  // `p4lb policy` alone shows it: a default subcommand gets the options (the parent has none,
  // or it would take --api and --token away from `policy allow`).
  common(policy.command('show', { isDefault: true }).description('show the same-VIP default, the rules, and the VM pairs and Internet egress they allow (`p4lb policy` alone does this)'))
    .action(async (options: CommonOptions, command: Command) => {
      const reply = await clientOf(options, env).policy();
      writer(command)(options.json === true ? json(reply) : formatPolicy(reply));
    });
  for (const verb of ['allow', 'remove'] as const) {
    common(
      policy
        .command(verb)
        .description(verb === 'allow' ? `let two VMs talk to each other (both ways), or a VM reach the Internet with <to> = ${INTERNET}` : 'remove a rule added with allow (in either direction)')
        .argument('<from>', 'VM name')
        .argument('<to>', `VM name, or ${INTERNET}`),
    ).action(async (from: string, to: string, options: CommonOptions, command: Command) => {
      const client = clientOf(options, env);
      const reply = verb === 'allow' ? await client.allowTraffic(from, to) : await client.removeTrafficRule(from, to);
      writer(command)(options.json === true ? json(reply) : formatPolicyRuleEdit(reply));
    });
  }
  common(
    policy
      .command('same-vip')
      .description('turn the default rule on or off: VMs serving a common VIP may talk to each other')
      .addArgument(new Argument('<state>', 'on or off').choices(['on', 'off'])),
  ).action(async (state: 'on' | 'off', options: CommonOptions, command: Command) => {
    const reply = await clientOf(options, env).setSameVipDefault(state === 'on');
    const pairs = reply.policy.vmPairs.filter((p) => p.from < p.to).length;
    writer(command)(options.json === true ? json(reply) : `same-VIP default: ${reply.sameVip ? 'on' : 'off'}${reply.changed ? '' : ' (unchanged)'}; ${pairs} VM pair${pairs === 1 ? '' : 's'} may talk\n${formatPending(reply.switches)}`);
  });
}
