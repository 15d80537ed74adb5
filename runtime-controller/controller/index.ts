/** The runtime controller: switches, health monitors, tables and tokens wired together. */
export * from './controller.ts';
export * from './desired.ts';
export * from './errors.ts';
export * from './pipelines.ts';
export * from './spec-change.ts';
export * from './spec-file.ts';
