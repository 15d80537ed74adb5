/** P4Info's match types (p4info.proto `MatchField.MatchType`) as the match kinds P4 names them. */
import { MatchField_MatchType } from './gen/p4/config/v1/p4info_pb.ts';

export type P4MatchKind = 'exact' | 'lpm' | 'ternary' | 'range' | 'optional';

const MATCH_KINDS: Partial<Record<MatchField_MatchType, P4MatchKind>> = {
  [MatchField_MatchType.EXACT]: 'exact',
  [MatchField_MatchType.LPM]: 'lpm',
  [MatchField_MatchType.TERNARY]: 'ternary',
  [MatchField_MatchType.RANGE]: 'range',
  [MatchField_MatchType.OPTIONAL]: 'optional',
};

/** The match kind of a P4Info match type; undefined for UNSPECIFIED and unknown values. */
export function matchKindOf(type: MatchField_MatchType): P4MatchKind | undefined {
  return MATCH_KINDS[type];
}
