/** The wire/ public API: Confluent framing, schema GUIDs and protobuf message indexes. */
export {
  decodeFrame,
  peekSchemaRef,
  encodeFrame,
  encodeSchemaIdHeader,
  schemaIdHeaderName,
  isIdRef,
  MAGIC_V0,
  MAGIC_V1,
  VALUE_SCHEMA_ID_HEADER,
  KEY_SCHEMA_ID_HEADER,
  type SchemaRef,
  type SchemaIdHeaderValue,
  type DecodeFrameOptions,
  type Frame,
} from './framing.js';
export {
  frameOf, locate, locateBytes, partBytes, partHeader, partHeaderName, schemaRefText,
  type Located, type PartRecord, type RecordPart,
} from './part.js';
export { readMessageIndexes, writeMessageIndexes, type ReadIndexes } from './message-indexes.js';
export { formatGuid, parseGuid, normalizeGuid, GUID_SIZE } from './guid.js';
