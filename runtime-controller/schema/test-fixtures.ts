/** The embedded target's test program and its schema, shared by the controller's tests. */
import { p4InfoFor, readTestProgram } from '../../target/server/test-harness.ts';
import { P4Schema } from './p4-schema.ts';

export const TEST_PROGRAM = readTestProgram();
export const TEST_P4INFO = p4InfoFor(TEST_PROGRAM);
export const TEST_SCHEMA = P4Schema.fromP4Info(TEST_P4INFO);
