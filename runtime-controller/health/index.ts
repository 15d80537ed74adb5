/** Health checking: the pure rise/fall state machine, the seeded schedule, real probes, checkers and per-gateway monitors. */
export * from './clock.ts';
export * from './errors.ts';
export * from './health-checker.ts';
export * from './health-monitor.ts';
export * from './health-state.ts';
export * from './jitter.ts';
export * from './probe.ts';
