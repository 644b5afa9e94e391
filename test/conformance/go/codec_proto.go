package main

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/confluentinc/confluent-kafka-go/v2/schemaregistry"
	_ "github.com/confluentinc/confluent-kafka-go/v2/schemaregistry/confluent" // registers confluent/meta.proto
	"github.com/confluentinc/confluent-kafka-go/v2/schemaregistry/serde"
	"github.com/confluentinc/confluent-kafka-go/v2/schemaregistry/serde/protobuf"
	"github.com/jhump/protoreflect/desc"
	"github.com/jhump/protoreflect/desc/protoparse"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/dynamicpb"
)

// protoCodec works on dynamic messages built from the registered schema, with values in protojson
// (proto field names, defaults emitted), so no generated code is needed.
type protoCodec struct {
	client schemaregistry.Client
	ser    *protobuf.Serializer
	de     *protobuf.Deserializer
	// The writer schema of the record being deserialized, for the message factory.
	current *desc.FileDescriptor
}

func newProtoCodec(client schemaregistry.Client, ruleConfig map[string]string) (codec, error) {
	sc := protobuf.NewSerializerConfig()
	sc.SerializerConfig = serializerConfig(ruleConfig)
	ser, err := protobuf.NewSerializer(client, serde.ValueSerde, sc)
	if err != nil {
		return nil, err
	}
	dc := protobuf.NewDeserializerConfig()
	dc.DeserializerConfig = deserializerConfig(ruleConfig)
	de, err := protobuf.NewDeserializer(client, serde.ValueSerde, dc)
	if err != nil {
		return nil, err
	}
	c := &protoCodec{client: client, ser: ser, de: de}
	de.MessageFactory = func(_ string, name string) (interface{}, error) {
		if c.current == nil {
			return nil, fmt.Errorf("no writer schema")
		}
		md := c.current.FindMessage(name)
		if md == nil {
			return nil, fmt.Errorf("message %s not in the writer schema", name)
		}
		return dynamicpb.NewMessage(md.UnwrapMessage()), nil
	}
	return c, nil
}

func (c *protoCodec) parse(info schemaregistry.SchemaInfo) (*desc.FileDescriptor, error) {
	deps := map[string]string{}
	if err := serde.ResolveReferences(c.client, info, deps); err != nil {
		return nil, err
	}
	parser := protoparse.Parser{
		Accessor: func(name string) (io.ReadCloser, error) {
			if name == "." {
				return io.NopCloser(strings.NewReader(info.Schema)), nil
			}
			if s, ok := deps[name]; ok {
				return io.NopCloser(strings.NewReader(s)), nil
			}
			return nil, fmt.Errorf("no schema for import %s", name)
		},
		LookupImport: desc.LoadFileDescriptor,
	}
	fds, err := parser.ParseFiles(".")
	if err != nil {
		return nil, err
	}
	return fds[0], nil
}

func (c *protoCodec) serialize(topic, typeName string, value json.RawMessage) ([]byte, error) {
	meta, err := c.client.GetLatestSchemaMetadata(topic + "-value")
	if err != nil {
		return nil, err
	}
	fd, err := c.parse(meta.SchemaInfo)
	if err != nil {
		return nil, err
	}
	md := fd.FindMessage(typeName)
	if md == nil {
		return nil, fmt.Errorf("message %s not in the schema", typeName)
	}
	msg := dynamicpb.NewMessage(md.UnwrapMessage())
	if err := protojson.Unmarshal(value, msg); err != nil {
		return nil, err
	}
	return c.ser.Serialize(topic, msg)
}

func (c *protoCodec) deserialize(topic string, payload []byte) (json.RawMessage, error) {
	if len(payload) < 5 || payload[0] != 0 {
		return nil, fmt.Errorf("not a schema-id-prefixed record")
	}
	id := int(binary.BigEndian.Uint32(payload[1:5]))
	info, err := c.client.GetBySubjectAndID(topic+"-value", id)
	if err != nil {
		return nil, err
	}
	if c.current, err = c.parse(info); err != nil {
		return nil, err
	}
	v, err := c.de.Deserialize(topic, payload)
	if err != nil {
		return nil, err
	}
	msg, ok := v.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("deserializer returned %T", v)
	}
	return protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: true}.Marshal(msg)
}
