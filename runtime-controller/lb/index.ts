/** Load-balancing logic of the controller, pure: backend selection, the tables a gateway or host needs, and the diff to install them. */
export * from './backends.ts';
export * from './diff.ts';
export * from './entry.ts';
export * from './errors.ts';
export * from './gateway-tables.ts';
export * from './host-tables.ts';
export * from './p4-names.ts';
export * from './tokens.ts';
export { uniqueEntries } from './unique.ts';
