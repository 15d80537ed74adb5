/** The registry: keys, VM assignments, token planning and lifecycle, traffic policy. */
export * from './errors.ts';
export * from './policy.ts';
export * from './store.ts';
export * from './tokens.ts';
