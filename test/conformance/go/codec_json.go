package main

import (
	"bytes"
	"encoding/json"

	"github.com/confluentinc/confluent-kafka-go/v2/schemaregistry"
	"github.com/confluentinc/confluent-kafka-go/v2/schemaregistry/serde"
	"github.com/confluentinc/confluent-kafka-go/v2/schemaregistry/serde/jsonschema"
)

// jsonCodec: JSON Schema values are plain JSON; numbers stay json.Number so that integers keep their digits.
type jsonCodec struct {
	ser *jsonschema.Serializer
	de  *jsonschema.Deserializer
}

func newJSONCodec(client schemaregistry.Client, ruleConfig map[string]string) (codec, error) {
	sc := jsonschema.NewSerializerConfig()
	sc.SerializerConfig = serializerConfig(ruleConfig)
	ser, err := jsonschema.NewSerializer(client, serde.ValueSerde, sc)
	if err != nil {
		return nil, err
	}
	dc := jsonschema.NewDeserializerConfig()
	dc.DeserializerConfig = deserializerConfig(ruleConfig)
	de, err := jsonschema.NewDeserializer(client, serde.ValueSerde, dc)
	if err != nil {
		return nil, err
	}
	return &jsonCodec{ser: ser, de: de}, nil
}

func (c *jsonCodec) serialize(topic, _ string, value json.RawMessage) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(value))
	dec.UseNumber()
	var v interface{}
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return c.ser.Serialize(topic, v)
}

func (c *jsonCodec) deserialize(topic string, payload []byte) (json.RawMessage, error) {
	// The deserializer has no default message factory: generic callers decode into a map.
	v := map[string]interface{}{}
	if err := c.de.DeserializeInto(topic, payload, &v); err != nil {
		return nil, err
	}
	return json.Marshal(v)
}
