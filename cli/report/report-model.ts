/**
 * The data of one `p4lb demo` run, as the orchestration fills it and the renderers read it: run
 * metadata, phases, the per-VIP distribution of connections, a sampled timeline with events, the
 * measured results of the failures, and pass/fail checks. Defined once as zod schemas so a model
 * read back from report.json is validated by the same rules as one built in memory.
 */
import { z } from 'zod';
import { P4lbAggregateError, P4lbError, type Diagnostic, type P4lbErrorOptions } from '../../core/errors.ts';

/** Bumped when a field changes meaning, so an old report.json is rejected rather than misread. */
export const REPORT_SCHEMA_VERSION = 1;

/** The orchestration samples the traffic at about this period (the timeline chart's resolution). */
export const DEFAULT_SAMPLE_INTERVAL_MS = 250;

const name = z.string().min(1);
const count = z.number().int().nonnegative();
const rate = z.number().nonnegative().finite();
const millis = z.number().nonnegative().finite();
/** null = not measured (the phase was skipped or the metric absent); renderers show "—". */
const optionalMillis = millis.nullable();

export const MachineSummarySchema = z.strictObject({
  /** `os.type() os.release()`, e.g. "Linux 6.8.0". */
  os: z.string(),
  cpus: z.number().int().positive(),
  cpuModel: z.string().optional(),
  memoryMiB: z.number().int().nonnegative(),
  /** `process.version`. */
  node: z.string(),
});

export const RunMetadataSchema = z.strictObject({
  /** When the run started, ISO 8601 UTC (`new Date().toISOString()` in the orchestration). */
  date: z.iso.datetime({ offset: true }),
  /** The spec's `deployment` name. */
  deployment: name,
  specFile: z.string().optional(),
  target: z.enum(['embedded', 'bmv2']),
  /** p4lb's version (package.json). */
  version: z.string().min(1),
  machine: MachineSummarySchema,
});

export const PhaseSchema = z
  .strictObject({
    name,
    /** Milliseconds since the run started, as every time in the model. */
    startMs: millis,
    endMs: millis,
    ok: z.boolean(),
    notes: z.string().optional(),
  })
  .refine((p) => p.endMs >= p.startMs, { message: 'endMs must not be before startMs', path: ['endMs'] });

export const VmShareSchema = z.strictObject({
  vm: name,
  connections: count,
  /** Fraction 0..1 of connections this VM should get (from weights, or the slot table's counts). */
  expectedShare: z.number().min(0).max(1),
  /** Fraction 0..1 it got. */
  measuredShare: z.number().min(0).max(1),
  /** (measured − expected) / expected × 100; null when the expected share is 0. */
  deviationPercent: z.number().finite().nullable(),
});

export const VipDistributionSchema = z
  .strictObject({
    vip: name,
    address: z.string().optional(),
    /** Where the expected shares come from. */
    expectedFrom: z.enum(['weights', 'slots']),
    totalConnections: count,
    vms: z.array(VmShareSchema).min(1),
  })
  .superRefine((d, ctx) => {
    const seen = new Set<string>();
    d.vms.forEach((v, i) => {
      if (seen.has(v.vm)) ctx.addIssue({ code: 'custom', message: `VM '${v.vm}' listed twice`, path: ['vms', i, 'vm'] });
      seen.add(v.vm);
    });
    const sum = d.vms.reduce((s, v) => s + v.connections, 0);
    if (sum !== d.totalConnections) {
      ctx.addIssue({ code: 'custom', message: `is ${d.totalConnections} but the VMs' connections add up to ${sum}`, path: ['totalConnections'] });
    }
  });

export const EVENT_KINDS = [
  'traffic-start',
  'traffic-stop',
  'vm-down',
  'vm-removed',
  'vm-up',
  'vm-restored',
  'gateway-down',
  'gateway-up',
  'drain',
  'note',
] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

export const TimelineEventSchema = z.strictObject({
  t: millis,
  kind: z.enum(EVENT_KINDS),
  /** Short text drawn on the chart, e.g. "vm-b1 down". */
  label: z.string(),
  detail: z.string().optional(),
});

export const TimelineSampleSchema = z.strictObject({
  /** Milliseconds since the run started. */
  t: millis,
  okPerSecond: rate,
  failedPerSecond: rate,
  /** Successful requests per second per VM (VMs that served nothing may be left out). */
  perVm: z.record(z.string(), rate),
  /** Long-lived connections open at t. */
  openConnections: count,
  /** Long-lived connections broken so far (cumulative). */
  brokenConnections: count,
});

export const TimelineSchema = z
  .strictObject({
    intervalMs: z.number().positive().finite(),
    /** The VMs, in the order their series are drawn. */
    vms: z.array(name),
    samples: z.array(TimelineSampleSchema),
    events: z.array(TimelineEventSchema),
  })
  .superRefine((tl, ctx) => {
    const known = new Set(tl.vms);
    tl.samples.forEach((s, i) => {
      const prev = tl.samples[i - 1];
      if (prev !== undefined && s.t < prev.t) {
        ctx.addIssue({ code: 'custom', message: `t ${s.t} is before the previous sample's ${prev.t}`, path: ['samples', i, 't'] });
      }
      for (const vm of Object.keys(s.perVm)) {
        if (!known.has(vm)) ctx.addIssue({ code: 'custom', message: `VM '${vm}' is not in timeline.vms`, path: ['samples', i, 'perVm', vm] });
      }
    });
  });

export const GatewayLossResultSchema = z
  .strictObject({
    gateway: name,
    /** Long-lived connections open just before the gateway went down. */
    connectionsBefore: count,
    survived: count,
    broken: count,
  })
  .refine((g) => g.survived + g.broken <= g.connectionsBefore, {
    message: 'survived + broken exceeds connectionsBefore',
    path: ['broken'],
  });

/** How fast one gateway reacted to a VM's change of health. */
export const GatewayConvergenceSchema = z.strictObject({
  gateway: name,
  /** From the change (VM stopped or started) to the controller marking it down or up. */
  detectionMs: optionalMillis,
  /** The controller's own measure: p4lb_convergence_seconds for this gateway, in ms. */
  controllerConvergenceMs: optionalMillis,
  /** Seen from the data plane: from the change to the last request through this gateway still
   *  going to (or the first request again reaching) the VM. */
  dataPlaneConvergenceMs: optionalMillis,
});

export const VmChangeResultSchema = z.strictObject({
  vm: name,
  /** When the VM was stopped (failure) or started again (recovery), ms since the run started. */
  atMs: millis,
  gateways: z.array(GatewayConvergenceSchema),
  /** Requests that failed during the change. */
  failedRequests: count,
});

export const ResultsSchema = z.strictObject({
  gatewayLoss: GatewayLossResultSchema.nullable(),
  vmFailure: VmChangeResultSchema.nullable(),
  vmRecovery: VmChangeResultSchema.nullable(),
});

export const CheckSchema = z.strictObject({
  name,
  passed: z.boolean(),
  detail: z.string(),
});

export const DemoReportSchema = z.strictObject({
  schemaVersion: z.literal(REPORT_SCHEMA_VERSION),
  run: RunMetadataSchema,
  phases: z.array(PhaseSchema),
  distribution: z.array(VipDistributionSchema),
  timeline: TimelineSchema,
  results: ResultsSchema,
  checks: z.array(CheckSchema),
});

export type MachineSummary = z.infer<typeof MachineSummarySchema>;
export type RunMetadata = z.infer<typeof RunMetadataSchema>;
export type Phase = z.infer<typeof PhaseSchema>;
export type VmShare = z.infer<typeof VmShareSchema>;
export type VipDistribution = z.infer<typeof VipDistributionSchema>;
export type TimelineEvent = z.infer<typeof TimelineEventSchema>;
export type TimelineSample = z.infer<typeof TimelineSampleSchema>;
export type Timeline = z.infer<typeof TimelineSchema>;
export type GatewayLossResult = z.infer<typeof GatewayLossResultSchema>;
export type GatewayConvergence = z.infer<typeof GatewayConvergenceSchema>;
export type VmChangeResult = z.infer<typeof VmChangeResultSchema>;
export type Results = z.infer<typeof ResultsSchema>;
export type Check = z.infer<typeof CheckSchema>;
export type DemoReport = z.infer<typeof DemoReportSchema>;

/** Errors of the report layer (validation, writing). */
export class ReportError extends P4lbError {
  constructor(code: string, message: string, options: P4lbErrorOptions = {}) {
    super(code, message, options);
  }
}

/** A malformed model: every problem with the dotted path of its field. */
export class ReportValidationError extends P4lbAggregateError {}

/** `timeline.samples[3].perVm.vm-a1` from a zod path. */
export function formatFieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? String(seg) : `.${String(seg)}`;
  }
  return out === '' ? '(report)' : out;
}

export type ReportValidation =
  | { readonly ok: true; readonly report: DemoReport }
  | { readonly ok: false; readonly diagnostics: readonly Diagnostic[] };

export function checkReport(value: unknown): ReportValidation {
  const parsed = DemoReportSchema.safeParse(value);
  if (parsed.success) return { ok: true, report: parsed.data };
  return {
    ok: false,
    diagnostics: parsed.error.issues.map((i) => ({ message: i.message, location: { path: formatFieldPath(i.path) } })),
  };
}

/** The model, validated; throws ReportValidationError (code REPORT_INVALID) naming each bad field. */
export function validateReport(value: unknown): DemoReport {
  const result = checkReport(value);
  if (result.ok) return result.report;
  const first = result.diagnostics[0]!;
  const more = result.diagnostics.length > 1 ? ` (and ${result.diagnostics.length - 1} more)` : '';
  throw new ReportValidationError('REPORT_INVALID', `invalid demo report: ${first.location?.path ?? ''}: ${first.message}${more}`, result.diagnostics);
}

export interface VipCounts {
  readonly vip: string;
  readonly address?: string;
  readonly expectedFrom: 'weights' | 'slots';
  /** Connections each VM received, in display order. */
  readonly connections: ReadonlyArray<{ readonly vm: string; readonly count: number }>;
  /** Each VM's weight or slot count; shares are these over their sum. Missing VMs count 0. */
  readonly expected: Readonly<Record<string, number>>;
}

/** Fills shares and deviations from raw counts, so the orchestration never computes them itself. */
export function buildVipDistribution(input: VipCounts): VipDistribution {
  const total = input.connections.reduce((s, c) => s + c.count, 0);
  const expectedTotal = input.connections.reduce((s, c) => s + (input.expected[c.vm] ?? 0), 0);
  const vms = input.connections.map((c): VmShare => {
    const expectedShare = expectedTotal === 0 ? 0 : (input.expected[c.vm] ?? 0) / expectedTotal;
    const measuredShare = total === 0 ? 0 : c.count / total;
    return {
      vm: c.vm,
      connections: c.count,
      expectedShare,
      measuredShare,
      deviationPercent: expectedShare === 0 ? null : ((measuredShare - expectedShare) / expectedShare) * 100,
    };
  });
  return {
    vip: input.vip,
    ...(input.address === undefined ? {} : { address: input.address }),
    expectedFrom: input.expectedFrom,
    totalConnections: total,
    vms,
  };
}

/** Cumulative counters read at one instant; the builder turns consecutive readings into rates. */
export interface CounterReading {
  readonly t: number;
  readonly okTotal: number;
  readonly failedTotal: number;
  readonly perVmTotal: Readonly<Record<string, number>>;
  readonly openConnections: number;
  readonly brokenConnections: number;
}

/**
 * Turns cumulative counter readings (taken every ~250 ms by the orchestration, whose clock gives
 * `t`) into timeline samples with per-second rates. The first reading is the baseline.
 */
export class TimelineBuilder {
  private readonly samples: TimelineSample[] = [];
  private readonly events: TimelineEvent[] = [];
  private previous: CounterReading | undefined;

  constructor(
    private readonly vms: readonly string[],
    private readonly intervalMs: number = DEFAULT_SAMPLE_INTERVAL_MS,
  ) {}

  record(reading: CounterReading): void {
    const prev = this.previous;
    this.previous = reading;
    if (prev === undefined) return;
    const seconds = (reading.t - prev.t) / 1000;
    if (seconds <= 0) return;
    const perSecond = (now: number, before: number): number => Math.max(0, now - before) / seconds;
    const perVm: Record<string, number> = {};
    for (const vm of this.vms) perVm[vm] = perSecond(reading.perVmTotal[vm] ?? 0, prev.perVmTotal[vm] ?? 0);
    this.samples.push({
      t: reading.t,
      okPerSecond: perSecond(reading.okTotal, prev.okTotal),
      failedPerSecond: perSecond(reading.failedTotal, prev.failedTotal),
      perVm,
      openConnections: reading.openConnections,
      brokenConnections: reading.brokenConnections,
    });
  }

  event(event: TimelineEvent): void {
    this.events.push(event);
  }

  build(): Timeline {
    return {
      intervalMs: this.intervalMs,
      vms: [...this.vms],
      samples: [...this.samples],
      events: [...this.events].sort((a, b) => a.t - b.t),
    };
  }
}
