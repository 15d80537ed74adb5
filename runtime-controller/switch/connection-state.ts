/**
 * The lifecycle of one switch connection as a pure state machine:
 *
 *   disconnected → connecting → arbitrating → primary → pipeline-ready
 *                                          ↘ backup ⇄ (regained / lost primary)
 *   any live state --stream-error--> disconnected (reconnect scheduled with backoff)
 *   primary --pipeline-failed--> primary (push retried with the same backoff until it succeeds,
 *                                         the role is lost or the owner stops)
 *
 * `transition` answers the next state, what the driver must do (effects) and what to tell
 * listeners (notices). Events that do not apply to the current state are ignored, so late
 * answers from an earlier connection cannot move the machine.
 */

export type Phase = 'disconnected' | 'connecting' | 'arbitrating' | 'primary' | 'backup' | 'pipeline-ready';

export interface ConnectionState {
  readonly phase: Phase;
  /** Failed connections in a row; 0 once arbitration succeeds. */
  readonly failures: number;
  /** The primary's election id as last reported. */
  readonly primaryElectionId: bigint | undefined;
  /** Stopped by the owner: no reconnects until started again. */
  readonly stopped: boolean;
  /** Failed pipeline pushes (or checks) in a row; 0 once the pipeline is in place. */
  readonly pipelineFailures: number;
}

export const INITIAL_STATE: ConnectionState = { phase: 'disconnected', failures: 0, primaryElectionId: undefined, stopped: true, pipelineFailures: 0 };

export type ConnectionEvent =
  | { readonly type: 'start' }
  | { readonly type: 'connected' }
  | { readonly type: 'arbitration-result'; readonly primary: boolean; readonly primaryElectionId: bigint | undefined }
  /** The pipeline is in place: pushed now (`pushed`) or found already running. */
  | { readonly type: 'pipeline-pushed'; readonly pushed: boolean }
  | { readonly type: 'pipeline-failed'; readonly error: unknown }
  /** The channel or stream failed (connect timeout, server gone, stream ended). */
  | { readonly type: 'stream-error'; readonly error: unknown }
  /** The backoff timer fired. */
  | { readonly type: 'reconnect-due' }
  /** The pipeline retry timer fired. */
  | { readonly type: 'pipeline-retry-due' }
  | { readonly type: 'stop' };

export type Effect =
  | { readonly kind: 'connect' }
  | { readonly kind: 'open-stream' }
  /** Compare the switch's pipeline with ours; push when it differs; answer pipeline-pushed. */
  | { readonly kind: 'ensure-pipeline' }
  | { readonly kind: 'close' }
  | { readonly kind: 'schedule-reconnect'; readonly attempt: number }
  | { readonly kind: 'cancel-reconnect' }
  /** Ensure the pipeline again after the backoff delay of `attempt`; answer pipeline-retry-due. */
  | { readonly kind: 'schedule-pipeline-retry'; readonly attempt: number }
  | { readonly kind: 'cancel-pipeline-retry' };

export type Notice =
  | { readonly type: 'lost-primary'; readonly primaryElectionId: bigint | undefined }
  | { readonly type: 'regained-primary' }
  | { readonly type: 'pipeline-ready'; readonly pushed: boolean }
  | { readonly type: 'error'; readonly error: unknown };

export interface Transition {
  readonly state: ConnectionState;
  readonly effects: readonly Effect[];
  readonly notices: readonly Notice[];
}

const LIVE: ReadonlySet<Phase> = new Set(['connecting', 'arbitrating', 'primary', 'backup', 'pipeline-ready']);

function stay(state: ConnectionState): Transition {
  return { state, effects: [], notices: [] };
}

export function transition(state: ConnectionState, event: ConnectionEvent): Transition {
  if (event.type === 'stop') {
    return { state: { ...state, phase: 'disconnected', stopped: true }, effects: [{ kind: 'cancel-reconnect' }, { kind: 'cancel-pipeline-retry' }, { kind: 'close' }], notices: [] };
  }
  if (event.type === 'start') {
    if (!state.stopped) return stay(state);
    return { state: { ...state, phase: 'connecting', stopped: false, failures: 0, pipelineFailures: 0 }, effects: [{ kind: 'connect' }], notices: [] };
  }
  if (state.stopped) return stay(state);
  switch (event.type) {
    case 'connected':
      return state.phase === 'connecting' ? { state: { ...state, phase: 'arbitrating' }, effects: [{ kind: 'open-stream' }], notices: [] } : stay(state);
    case 'arbitration-result':
      return arbitration(state, event.primary, event.primaryElectionId);
    case 'pipeline-pushed':
      return state.phase === 'primary'
        ? { state: { ...state, phase: 'pipeline-ready', pipelineFailures: 0 }, effects: [], notices: [{ type: 'pipeline-ready', pushed: event.pushed }] }
        : stay(state);
    case 'pipeline-failed': {
      // A refusal may pass (a switch still loading, a device busy); waiting as primary with no
      // pipeline would leave the switch empty until the session drops. Report it and try again.
      if (state.phase !== 'primary') return stay(state);
      const pipelineFailures = state.pipelineFailures + 1;
      return { state: { ...state, pipelineFailures }, effects: [{ kind: 'schedule-pipeline-retry', attempt: pipelineFailures }], notices: [{ type: 'error', error: event.error }] };
    }
    case 'pipeline-retry-due':
      return state.phase === 'primary' ? { state, effects: [{ kind: 'ensure-pipeline' }], notices: [] } : stay(state);
    case 'stream-error': {
      if (!LIVE.has(state.phase)) return stay(state);
      const failures = state.failures + 1;
      return {
        state: { ...state, phase: 'disconnected', failures },
        effects: [...cancelRetryFrom(state), { kind: 'close' }, { kind: 'schedule-reconnect', attempt: failures }],
        notices: state.phase === 'primary' || state.phase === 'pipeline-ready' ? [{ type: 'lost-primary', primaryElectionId: undefined }] : [],
      };
    }
    case 'reconnect-due':
      return state.phase === 'disconnected' ? { state: { ...state, phase: 'connecting' }, effects: [{ kind: 'connect' }], notices: [] } : stay(state);
  }
}

/** Leaving primary ends a pending pipeline retry (only primary pushes; a new primary ensures anew). */
function cancelRetryFrom(state: ConnectionState): Effect[] {
  return state.phase === 'primary' ? [{ kind: 'cancel-pipeline-retry' }] : [];
}

function arbitration(state: ConnectionState, primary: boolean, primaryElectionId: bigint | undefined): Transition {
  const next = { ...state, primaryElectionId, failures: 0 };
  switch (state.phase) {
    case 'arbitrating':
      return primary
        ? { state: { ...next, phase: 'primary' }, effects: [{ kind: 'ensure-pipeline' }], notices: [] }
        : { state: { ...next, phase: 'backup' }, effects: [], notices: [] };
    case 'backup':
      return primary
        ? { state: { ...next, phase: 'primary' }, effects: [{ kind: 'ensure-pipeline' }], notices: [{ type: 'regained-primary' }] }
        : { state: next, effects: [], notices: [] };
    case 'primary':
    case 'pipeline-ready':
      return primary
        ? { state: next, effects: [], notices: [] }
        : { state: { ...next, phase: 'backup' }, effects: cancelRetryFrom(state), notices: [{ type: 'lost-primary', primaryElectionId }] };
    default:
      return stay(state);
  }
}
