/** Errors of the BMv2 runner: starting simple_switch_grpc, its veth ports, P4Runtime and Thrift calls. */
import { P4lbError, type P4lbErrorOptions } from '../../core/errors.ts';

export type Bmv2ErrorCode =
  | 'BMV2_NOT_FOUND'
  | 'BMV2_COMPILE_FAILED'
  | 'BMV2_START_FAILED'
  | 'BMV2_VETH_FAILED'
  | 'BMV2_P4RUNTIME'
  | 'BMV2_THRIFT'
  | 'BMV2_UNSUPPORTED';

export class Bmv2Error extends P4lbError {
  constructor(code: Bmv2ErrorCode, message: string, options: P4lbErrorOptions = {}) {
    super(code, message, options);
  }
}
