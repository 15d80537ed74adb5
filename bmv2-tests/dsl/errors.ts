/** Errors of the packet-test DSL: a scenario asked for something the target or program lacks. */
import { P4lbError, type P4lbErrorOptions } from '../../core/errors.ts';

export type PacketTestErrorCode =
  | 'PACKET_TEST_UNKNOWN_NAME'
  | 'PACKET_TEST_BAD_VALUE'
  | 'PACKET_TEST_NOT_LOADED'
  | 'PACKET_TEST_TARGET'
  | 'PACKET_TEST_ENTRIES';

export class PacketTestError extends P4lbError {
  constructor(code: PacketTestErrorCode, message: string, options: P4lbErrorOptions = {}) {
    super(code, message, options);
  }
}
