/** The controller's typed view of a P4Info and the encode/decode pairs built on it. */
export * from './codec.ts';
export * from './entities.ts';
export * from './errors.ts';
export * from './p4-schema.ts';
export * from './values.ts';
