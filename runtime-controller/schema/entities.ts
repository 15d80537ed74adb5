/**
 * Entities and updates as plain values (a tagged union over the kinds the controller writes),
 * with their encode/decode pair to p4.v1 Entity and Update.
 */
import { create } from '@bufbuild/protobuf';
import * as p4v1 from '../../core/p4runtime/gen/p4/v1/p4runtime_pb.ts';
import { SchemaError } from './errors.ts';
import {
  decodeCounterEntry,
  decodeDigestEntry,
  decodeDirectCounterEntry,
  decodeRegisterEntry,
  decodeTableEntry,
  encodeCounterEntry,
  encodeDigestEntry,
  encodeDirectCounterEntry,
  encodeRegisterEntry,
  encodeTableEntry,
  type CounterValue,
  type DigestConfigValue,
  type DirectCounterValue,
  type RegisterValue,
  type TableEntryValue,
} from './codec.ts';
import type { P4Schema } from './p4-schema.ts';

export type EntityValue =
  | { readonly kind: 'tableEntry'; readonly value: TableEntryValue }
  | { readonly kind: 'counterEntry'; readonly value: CounterValue }
  | { readonly kind: 'directCounterEntry'; readonly value: DirectCounterValue }
  | { readonly kind: 'registerEntry'; readonly value: RegisterValue }
  | { readonly kind: 'digestEntry'; readonly value: DigestConfigValue };

export type UpdateType = 'insert' | 'modify' | 'delete';

export interface UpdateValue {
  readonly type: UpdateType;
  readonly entity: EntityValue;
}

const UPDATE_TYPES: Record<UpdateType, p4v1.Update_Type> = {
  insert: p4v1.Update_Type.INSERT,
  modify: p4v1.Update_Type.MODIFY,
  delete: p4v1.Update_Type.DELETE,
};

export function encodeEntity(schema: P4Schema, e: EntityValue, options: { keyOnly?: boolean } = {}): p4v1.Entity {
  switch (e.kind) {
    case 'tableEntry':
      // A literal, not create(): see the messages section of codec.ts.
      return { $typeName: 'p4.v1.Entity', entity: { case: 'tableEntry', value: encodeTableEntry(schema, e.value, options) } };
    case 'counterEntry':
      return create(p4v1.EntitySchema, { entity: { case: 'counterEntry', value: encodeCounterEntry(schema, e.value) } });
    case 'directCounterEntry':
      return create(p4v1.EntitySchema, { entity: { case: 'directCounterEntry', value: encodeDirectCounterEntry(schema, e.value) } });
    case 'registerEntry':
      return create(p4v1.EntitySchema, { entity: { case: 'registerEntry', value: encodeRegisterEntry(schema, e.value) } });
    case 'digestEntry':
      return create(p4v1.EntitySchema, { entity: { case: 'digestEntry', value: encodeDigestEntry(schema, e.value) } });
  }
}

export function decodeEntity(schema: P4Schema, e: p4v1.Entity): EntityValue {
  const x = e.entity;
  switch (x.case) {
    case 'tableEntry':
      return { kind: 'tableEntry', value: decodeTableEntry(schema, x.value) };
    case 'counterEntry':
      return { kind: 'counterEntry', value: decodeCounterEntry(schema, x.value) };
    case 'directCounterEntry':
      return { kind: 'directCounterEntry', value: decodeDirectCounterEntry(schema, x.value) };
    case 'registerEntry':
      return { kind: 'registerEntry', value: decodeRegisterEntry(schema, x.value) };
    case 'digestEntry':
      return { kind: 'digestEntry', value: decodeDigestEntry(schema, x.value) };
    default:
      throw new SchemaError('SCHEMA_BAD_ENTRY', `entities of kind ${x.case ?? 'none'} are not decoded by the controller`);
  }
}

export function encodeUpdate(schema: P4Schema, u: UpdateValue): p4v1.Update {
  // A DELETE names the entry by its key alone.
  const entity = encodeEntity(schema, u.entity, { keyOnly: u.type === 'delete' });
  return { $typeName: 'p4.v1.Update', type: UPDATE_TYPES[u.type], entity };
}

export function decodeUpdate(schema: P4Schema, u: p4v1.Update): UpdateValue {
  const type = (Object.keys(UPDATE_TYPES) as UpdateType[]).find((k) => UPDATE_TYPES[k] === u.type);
  if (type === undefined || u.entity === undefined) throw new SchemaError('SCHEMA_BAD_ENTRY', 'the update has no type or no entity');
  return { type, entity: decodeEntity(schema, u.entity) };
}

/** Shorthands for table-entry updates. */
export function insertEntry(value: TableEntryValue): UpdateValue {
  return { type: 'insert', entity: { kind: 'tableEntry', value } };
}

export function modifyEntry(value: TableEntryValue): UpdateValue {
  return { type: 'modify', entity: { kind: 'tableEntry', value } };
}

export function deleteEntry(value: TableEntryValue): UpdateValue {
  return { type: 'delete', entity: { kind: 'tableEntry', value } };
}
