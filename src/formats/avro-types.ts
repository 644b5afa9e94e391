/**
 * avsc's runtime type shapes (what its typings leave out) and the small walks over them that the Avro
 * codec, its walker compiler and its parser share.
 */
import type avro from 'avsc';
import type { FieldKind, FieldVisitor } from './types.js';

export type Type = avro.Type;
export type Walk = (value: unknown, visit: FieldVisitor) => unknown;

interface AvroField {
  readonly name: string;
  readonly type: Type;
}

// avsc's runtime shapes that its typings leave out.
export interface AnyType {
  readonly typeName: string;
  readonly name?: string;
  readonly branchName?: string;
  readonly fields?: readonly AvroField[];
  readonly itemsType?: Type;
  readonly valuesType?: Type;
  readonly types?: readonly Type[];
  readonly size?: number;
}
export const t = (type: Type): AnyType => type as unknown as AnyType;

export const isRecordType = (type: Type): boolean => t(type).typeName === 'record' || t(type).typeName === 'error';

export function leafKind(type: Type): FieldKind {
  const name = t(type).typeName;
  return name === 'string' ? 'string' : name === 'bytes' ? 'bytes' : 'other';
}

/** Leaf types reachable from a field type without entering a record (through unions, arrays, maps). */
export function leafTypes(type: Type, out: Type[] = []): Type[] {
  const a = t(type);
  if (isRecordType(type)) return out;
  if (a.types !== undefined) for (const b of a.types) leafTypes(b, out);
  else if (a.itemsType !== undefined) leafTypes(a.itemsType, out);
  else if (a.valuesType !== undefined) leafTypes(a.valuesType, out);
  else out.push(type);
  return out;
}

/** Records reachable from a type without entering a record. */
export function childRecords(type: Type, out: Set<Type>): Set<Type> {
  const a = t(type);
  if (isRecordType(type)) out.add(type);
  else if (a.types !== undefined) for (const b of a.types) childRecords(b, out);
  else if (a.itemsType !== undefined) childRecords(a.itemsType, out);
  else if (a.valuesType !== undefined) childRecords(a.valuesType, out);
  return out;
}

/** avsc's union bucket of a type (see avsc getTypeBucket). */
export function typeBucket(type: Type): string {
  switch (t(type).typeName) {
    case 'double':
    case 'float':
    case 'int':
    case 'long':
      return 'number';
    case 'bytes':
    case 'fixed':
      return 'buffer';
    case 'enum':
      return 'string';
    case 'map':
    case 'error':
    case 'record':
      return 'object';
    default:
      return t(type).typeName;
  }
}

/** The bucket of a decoded value; the counterpart of typeBucket for unwrapped unions. */
export function valueBucket(val: unknown): string {
  if (val === null) return 'null';
  const k = typeof val;
  if (k === 'object') {
    if (Array.isArray(val)) return 'array';
    if (val instanceof Uint8Array) return 'buffer';
    return 'object';
  }
  return k === 'bigint' ? 'number' : k;
}
