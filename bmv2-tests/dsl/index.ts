/** The packet-test DSL: targets, expectations, the example's scenarios and their table entries. */
export * from './target.ts';
export * from './errors.ts';
export * from './values.ts';
export * from './packet-diff.ts';
export * from './packet-test.ts';
export * from './embedded-target.ts';
export * from './entries.ts';
export * from './scenario.ts';
export * from './runner.ts';
