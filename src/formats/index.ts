export type {
  Codec, CodecOptions, FieldInfo, FieldKind, FieldSelect, FieldSplicer, FieldVisitor, FieldWalker, ResolvedReferences, SelectedLeaf, SpliceState,
} from './types.js';
export { createAvroCodec, createAvroResolver, isAvroCodec } from './avro.js';
export type { AvroCodec, AvroResolver } from './avro.js';
export { createProtobufCodec, isProtobufCodec } from './protobuf.js';
export type { ProtobufCodec } from './protobuf.js';
export { looksLikeSerializedDescriptor, protoTextFromDescriptor } from './protobuf-descriptor-text.js';
export { serializedDescriptor } from './protobuf-descriptor.js';
export { createJsonCodec, isJsonCodec } from './json.js';
export type { JsonCodec } from './json.js';
export { createCodec, createValueConverter } from './codec-factory.js';
export type { ValueConverter } from './codec-factory.js';
export { compileAvroSplicer } from './avro-splice.js';
export type { AvroSplicer, AvroSpliceState } from './avro-splice.js';
