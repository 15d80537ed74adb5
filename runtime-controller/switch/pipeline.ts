/**
 * Whether a switch already runs the pipeline we want, so that a reconnect does not push it again
 * (a push wipes every table). Cookies decide when both sides have one; otherwise the P4Info is
 * compared field by field. Pure.
 */
import { createHash } from 'node:crypto';
import { equals, toBinary } from '@bufbuild/protobuf';
import { P4InfoSchema } from '../../core/p4runtime/gen/p4/config/v1/p4info_pb.ts';
import type { InstalledPipeline, PipelineConfig } from '../client/switch-client.ts';

/**
 * A cookie naming this exact pipeline: the first 8 bytes of SHA-256 over the P4Info and the
 * device config, so a changed program body with an unchanged P4Info still counts as different.
 */
export function pipelineCookie(config: Pick<PipelineConfig, 'p4info' | 'deviceConfig'>): bigint {
  const h = createHash('sha256').update(toBinary(P4InfoSchema, config.p4info)).update(config.deviceConfig).digest();
  return h.readBigUInt64BE(0);
}

export function samePipeline(installed: InstalledPipeline | undefined, wanted: PipelineConfig): boolean {
  if (installed === undefined) return false;
  if (installed.cookie !== undefined && wanted.cookie !== undefined) return installed.cookie === wanted.cookie;
  return installed.p4info !== undefined && equals(P4InfoSchema, installed.p4info, wanted.p4info);
}
