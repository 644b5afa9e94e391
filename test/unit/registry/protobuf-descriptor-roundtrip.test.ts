// .proto text -> FileDescriptorProto (what ?format=serialized answers) -> .proto text: the second trip is
// byte-stable, protobuf-es (the official JS client's protobuf runtime) builds the same messages from it,
// and the fields recrypt sees (names, tags, kinds) are the same from the text and from the descriptor.
import { createFileRegistry, fromBinary } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema, file_google_protobuf_timestamp } from '@bufbuild/protobuf/wkt';
import { file_confluent_meta } from '@confluentinc/schemaregistry/dist/confluent/meta_pb.js';
import { describe, expect, it } from 'vitest';
import { createProtobufCodec, protoTextFromDescriptor, serializedDescriptor } from '../../../src/formats/index.js';

const SCHEMAS: Record<string, string> = {
  proto2: `syntax = "proto2";
package legacy.v1;
import "confluent/meta.proto";
option java_package = "com.example.legacy";
option optimize_for = SPEED;
message Account {
  required string id = 1 [(confluent.field_meta).tags = "PII"];
  optional int32 level = 2 [default = 3];
  optional string label = 3 [default = "a label"];
  repeated int64 ids = 4 [packed = true];
  optional Kind kind = 5 [default = GOLD];
  optional bytes blob = 6 [deprecated = true, json_name = "theBlob"];
  extensions 100 to 199;
  reserved 20, 30 to 40;
  reserved "old_field";
  enum Kind {
    BASIC = 0;
    GOLD = 1 [deprecated = true];
  }
}
`,
  proto3: `syntax = "proto3";
package shop;
import "confluent/meta.proto";
import "google/protobuf/timestamp.proto";
message Order {
  option (confluent.message_meta) = { doc: "an order" };
  string id = 1;
  optional string note = 2 [(confluent.field_meta) = { tags: ["PII", "NOTE"], params { key: "k" value: "v" } }];
  google.protobuf.Timestamp at = 3;
  map<string, Line> lines = 4;
  oneof payment {
    string card = 5 [(confluent.field_meta) = { tags: ["PII"] }];
    bytes token = 6;
  }
  message Line {
    string sku = 1;
    repeated string serials = 2 [(confluent.field_meta) = { tags: ["PII"] }];
  }
}
enum Status {
  STATUS_UNKNOWN = 0;
  STATUS_OK = 1;
}
service Orders {
  rpc Get(Order) returns (Order);
  rpc Watch(stream Order) returns (stream Order);
}
`,
};

const fields = (schema: string) =>
  createProtobufCodec({ schemaType: 'PROTOBUF', schema }).fields().map((f) => [f.fullName, f.kind, [...f.inlineTags].sort()]);

describe('Protobuf descriptor round trips', () => {
  for (const [name, text] of Object.entries(SCHEMAS)) {
    it(`${name}: text -> descriptor -> text -> descriptor is stable, and recrypt sees the same fields`, () => {
      const first = serializedDescriptor({ schemaType: 'PROTOBUF', schema: text }, new Map());
      const printed = protoTextFromDescriptor(first);
      const second = serializedDescriptor({ schemaType: 'PROTOBUF', schema: printed }, new Map());
      expect(second).toBe(first);
      expect(protoTextFromDescriptor(second)).toBe(printed);
      expect(fields(printed)).toEqual(fields(text));
      expect(fields(first)).toEqual(fields(text));
    });
  }

  it('protobuf-es builds the messages, services and options from the descriptor', () => {
    const file = fromBinary(FileDescriptorProtoSchema, Buffer.from(serializedDescriptor({ schemaType: 'PROTOBUF', schema: SCHEMAS['proto3']! }, new Map()), 'base64'));
    expect(file.dependency).toEqual(['confluent/meta.proto', 'google/protobuf/timestamp.proto']);
    const registry = createFileRegistry(file, (dep) => ({ 'confluent/meta.proto': file_confluent_meta, 'google/protobuf/timestamp.proto': file_google_protobuf_timestamp })[dep]);
    const order = registry.getMessage('shop.Order')!;
    expect(order.fields.map((f) => [f.name, f.fieldKind])).toEqual([
      ['id', 'scalar'], ['note', 'scalar'], ['at', 'message'], ['lines', 'map'], ['card', 'scalar'], ['token', 'scalar'],
    ]);
    expect(order.field['note']?.proto.proto3Optional).toBe(true);
    expect(order.oneofs.map((o) => o.name)).toEqual(['payment']);
    expect(registry.getService('shop.Orders')?.methods.map((m) => [m.name, m.methodKind])).toEqual([['Get', 'unary'], ['Watch', 'bidi_streaming']]);
    expect(registry.getEnum('shop.Status')?.values.map((v) => v.name)).toEqual(['STATUS_UNKNOWN', 'STATUS_OK']);

    const legacy = fromBinary(FileDescriptorProtoSchema, Buffer.from(serializedDescriptor({ schemaType: 'PROTOBUF', schema: SCHEMAS['proto2']! }, new Map()), 'base64'));
    const account = legacy.messageType[0]!;
    expect(legacy.options?.javaPackage).toBe('com.example.legacy');
    expect(account.field.map((f) => [f.name, f.defaultValue])).toEqual([['id', ''], ['level', '3'], ['label', 'a label'], ['ids', ''], ['kind', 'GOLD'], ['blob', '']]);
    expect(account.field.find((f) => f.name === 'blob')?.jsonName).toBe('theBlob');
    expect(account.extensionRange.map((r) => [r.start, r.end])).toEqual([[100, 200]]);
    expect(account.reservedRange.map((r) => [r.start, r.end])).toEqual([[20, 21], [30, 41]]);
    expect(account.reservedName).toEqual(['old_field']);
  });
});
