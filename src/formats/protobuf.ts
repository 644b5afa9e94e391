/**
 * Protobuf codec on protobufjs, from `.proto` source text: the schema and its imports parsed and the
 * message selected by protobuf-schema.ts, its fields and tags collected by protobuf-fields.ts, walks
 * compiled by protobuf-walk.ts, in-place rewrites by protobuf-splice.ts.
 *
 * Value representation: protobufjs message instances (field names as declared), bytes as Buffer, 64-bit
 * integers as Long objects (lossless), enums as numbers, unset proto3 scalars read their default from
 * the prototype, the set member of a oneof is an own property.
 */
import protobuf from 'protobufjs';
import type { SchemaInfo } from '../model/index.js';
import { RecryptError } from '../util/errors.js';
import { decodeError, encodeError } from './common.js';
import { allFieldInfos, collectMessageFields, type MessageFields } from './protobuf-fields.js';
import { parseProto, selectMessage } from './protobuf-schema.js';
import { compileProtobufSplicer } from './protobuf-splice.js';
import { compileProtobufWalker } from './protobuf-walk.js';
import type { Codec, CodecOptions, FieldInfo, FieldSelect, FieldSplicer, FieldWalker, ResolvedReferences } from './types.js';

/**
 * protobufjs' Node reader clamps a string whose length runs past the end of the payload instead of
 * failing; this reader fails, so a truncated payload is a decode error, not a silently shorter string.
 */
class StrictReader extends protobuf.BufferReader {
  override string(): string {
    const len = this.uint32();
    const start = this.pos;
    const end = start + len;
    if (end > this.len) throw new RangeError('index out of range');
    this.pos = end;
    return (this.buf as Buffer).toString('utf8', start, end);
  }
}

export interface ProtobufCodec extends Codec {
  readonly schemaType: 'PROTOBUF';
  /** The selected message type. */
  readonly messageType: protobuf.Type;
}

class ProtobufCodecImpl implements ProtobufCodec {
  readonly schemaType = 'PROTOBUF' as const;
  readonly messageType: protobuf.Type;
  /** Per reachable message type, its fields (the walker's and the splicer's input). */
  readonly messages: MessageFields;
  private readonly allFields: readonly FieldInfo[];

  constructor(messageType: protobuf.Type) {
    this.messageType = messageType;
    this.messages = collectMessageFields(messageType);
    this.allFields = allFieldInfos(this.messages);
  }

  decode(payload: Buffer): unknown {
    try {
      return this.messageType.decode(new StrictReader(payload));
    } catch (err) {
      throw decodeError('Protobuf', err);
    }
  }

  encode(value: unknown): Buffer {
    if (typeof value !== 'object' || value === null) throw encodeError('Protobuf', null);
    // verify's messages name the field and the expected type, never the value.
    const problem = this.messageType.verify(value as Record<string, unknown>);
    if (problem !== null) {
      throw new RecryptError('FORMAT_ENCODE', `value does not encode as Protobuf with the target schema (${problem})`);
    }
    try {
      const bytes = this.messageType.encode(value as Record<string, unknown>).finish();
      return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    } catch (err) {
      throw encodeError('Protobuf', err);
    }
  }

  fields(): readonly FieldInfo[] {
    return this.allFields;
  }

  compileWalker(select: (field: FieldInfo) => boolean): FieldWalker | null {
    return compileProtobufWalker(this.messages, this.messageType, select);
  }

  compileSplicer(target: Codec, readSelects: readonly (FieldSelect | null)[], writeSelects: readonly (FieldSelect | null)[]): FieldSplicer | null {
    return target instanceof ProtobufCodecImpl ? compileProtobufSplicer(this, target, readSelects, writeSelects) : null;
  }
}

/**
 * Compiles a Protobuf schema (.proto source) for the message the indexes select. Throws RecryptError
 * FORMAT_SCHEMA.
 */
export function createProtobufCodec(schema: SchemaInfo, refs: ResolvedReferences = new Map(), options: CodecOptions = {}): ProtobufCodec {
  const parsed = parseProto(schema, refs);
  return new ProtobufCodecImpl(selectMessage(parsed, options.messageIndexes ?? [0]));
}

export function isProtobufCodec(codec: Codec): codec is ProtobufCodec {
  return codec instanceof ProtobufCodecImpl;
}
