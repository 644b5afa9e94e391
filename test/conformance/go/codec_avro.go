package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"reflect"
	"sync"

	"github.com/confluentinc/confluent-kafka-go/v2/schemaregistry"
	"github.com/confluentinc/confluent-kafka-go/v2/schemaregistry/serde"
	"github.com/confluentinc/confluent-kafka-go/v2/schemaregistry/serde/avrov2"
	"github.com/hamba/avro/v2"
)

// avroCodec serializes Avro in one of two ways a Go application does:
//   - "AVRO": typed structs, as generated code gives them (built here at run time with reflect.StructOf
//     from the registered schema: records are structs, ["null", T] is *T, arrays slices, maps maps,
//     other unions an interface field holding the branch's value, records registered by name);
//   - "AVRO_GENERIC": map[string]any records, for a caller without generated types.
//
// The JSON convention on the wire to the tests: records and maps are objects, bytes are
// {"$bytes":"<base64>"}, a union value is the branch's value itself (as avsc and the JS serdes take it).
type avroCodec struct {
	client  schemaregistry.Client
	ser     *avrov2.Serializer
	de      *avrov2.Deserializer
	generic bool

	mu    sync.Mutex
	types map[string]typedSchema // by schema text
}

type typedSchema struct {
	root    reflect.Type
	records map[string]reflect.Type
}

func newAvroCodec(client schemaregistry.Client, ruleConfig map[string]string, generic bool) (codec, error) {
	sc := avrov2.NewSerializerConfig()
	sc.SerializerConfig = serializerConfig(ruleConfig)
	ser, err := avrov2.NewSerializer(client, serde.ValueSerde, sc)
	if err != nil {
		return nil, err
	}
	dc := avrov2.NewDeserializerConfig()
	dc.DeserializerConfig = deserializerConfig(ruleConfig)
	de, err := avrov2.NewDeserializer(client, serde.ValueSerde, dc)
	if err != nil {
		return nil, err
	}
	return &avroCodec{client: client, ser: ser, de: de, generic: generic, types: map[string]typedSchema{}}, nil
}

func parseAvro(info schemaregistry.SchemaInfo) (avro.Schema, error) {
	return avro.ParseWithCache(info.Schema, "", &avro.SchemaCache{})
}

// structType builds (once per schema) the Go struct type for a record schema and registers every
// record type with the serdes, as an application registers its generated types.
func (c *avroCodec) structType(text string, schema avro.Schema) (typedSchema, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t, ok := c.types[text]; ok {
		return t, nil
	}
	records := map[string]reflect.Type{}
	t, err := goType(schema, records)
	if err != nil {
		return typedSchema{}, err
	}
	for name, rt := range records {
		zero := reflect.New(rt).Elem().Interface()
		c.ser.RegisterType(name, zero)
		c.de.RegisterType(name, zero)
	}
	c.types[text] = typedSchema{root: t, records: records}
	return c.types[text], nil
}

func (c *avroCodec) serialize(topic, _ string, value json.RawMessage) ([]byte, error) {
	meta, err := c.client.GetLatestSchemaMetadata(topic + "-value")
	if err != nil {
		return nil, err
	}
	schema, err := parseAvro(meta.SchemaInfo)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(value))
	dec.UseNumber()
	var raw interface{}
	if err := dec.Decode(&raw); err != nil {
		return nil, err
	}
	if c.generic {
		v, err := avroIn(schema, raw)
		if err != nil {
			return nil, err
		}
		record, ok := v.(map[string]interface{})
		if !ok {
			return nil, fmt.Errorf("top-level value must be a record")
		}
		return c.ser.Serialize(topic, &record)
	}
	t, err := c.structType(meta.Schema, schema)
	if err != nil {
		return nil, err
	}
	ptr := reflect.New(t.root)
	if err := typedIn(schema, raw, ptr.Elem(), t.records); err != nil {
		return nil, err
	}
	return c.ser.Serialize(topic, ptr.Interface())
}

func (c *avroCodec) deserialize(topic string, payload []byte) (json.RawMessage, error) {
	if len(payload) < 5 || payload[0] != 0 {
		return nil, fmt.Errorf("not a schema-id-prefixed record")
	}
	info, err := c.client.GetBySubjectAndID(topic+"-value", int(binary.BigEndian.Uint32(payload[1:5])))
	if err != nil {
		return nil, err
	}
	schema, err := parseAvro(info)
	if err != nil {
		return nil, err
	}
	var out interface{}
	if c.generic {
		record := map[string]interface{}{}
		if err := c.de.DeserializeInto(topic, payload, &record); err != nil {
			return nil, err
		}
		out, err = avroOut(schema, record)
	} else {
		var t typedSchema
		if t, err = c.structType(info.Schema, schema); err != nil {
			return nil, err
		}
		ptr := reflect.New(t.root)
		if err := c.de.DeserializeInto(topic, payload, ptr.Interface()); err != nil {
			return nil, err
		}
		out, err = typedOut(schema, ptr.Elem(), t.records)
	}
	if err != nil {
		return nil, err
	}
	return json.Marshal(out)
}
