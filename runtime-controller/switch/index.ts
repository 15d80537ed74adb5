/** One switch's connection lifecycle (pure state machine + driver) and reconciliation. */
export * from './backoff.ts';
export * from './connection-state.ts';
export * from './pipeline.ts';
export * from './reconcile.ts';
export * from './switch-connection.ts';
