/** Errors of the controller layer: bad options, unknown switches or VMs, operations on a stopped controller. */
import { P4lbError, type P4lbErrorOptions } from '../../core/errors.ts';

export type ControllerErrorCode =
  | 'CONTROLLER_BAD_OPTIONS'
  | 'CONTROLLER_UNKNOWN_GATEWAY'
  | 'CONTROLLER_UNKNOWN_VM'
  | 'CONTROLLER_NOT_CONNECTED'
  | 'CONTROLLER_NOT_RUNNING'
  | 'CONTROLLER_P4C'
  | 'CONTROLLER_SPEC_CHANGE'
  | 'CONTROLLER_IDS';

export class ControllerError extends P4lbError {
  constructor(code: ControllerErrorCode, message: string, options: P4lbErrorOptions = {}) {
    super(code, message, options);
  }
}
