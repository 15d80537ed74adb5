/** Prometheus metrics of the controller. */
export * from './metrics.ts';
