package main

import (
	"encoding/json"
	"fmt"

	"github.com/hamba/avro/v2"
)

// avroIn turns a JSON value into the generic Go value (map[string]any records) hamba/avro encodes.
func avroIn(schema avro.Schema, v interface{}) (interface{}, error) {
	schema = resolveRef(schema)
	switch s := schema.(type) {
	case *avro.RecordSchema:
		obj, ok := v.(map[string]interface{})
		if !ok {
			return nil, fmt.Errorf("%s: want an object", s.FullName())
		}
		out := make(map[string]interface{}, len(s.Fields()))
		for _, f := range s.Fields() {
			fv, present := obj[f.Name()]
			if !present && f.HasDefault() {
				fv = f.Default()
			}
			conv, err := avroIn(f.Type(), fv)
			if err != nil {
				return nil, fmt.Errorf("%s.%s: %w", s.FullName(), f.Name(), err)
			}
			out[f.Name()] = conv
		}
		return out, nil
	case *avro.ArraySchema:
		arr, ok := v.([]interface{})
		if !ok {
			return nil, fmt.Errorf("want an array")
		}
		out := make([]interface{}, len(arr))
		for i, item := range arr {
			conv, err := avroIn(s.Items(), item)
			if err != nil {
				return nil, err
			}
			out[i] = conv
		}
		return out, nil
	case *avro.MapSchema:
		obj, ok := v.(map[string]interface{})
		if !ok {
			return nil, fmt.Errorf("want an object for a map")
		}
		out := make(map[string]interface{}, len(obj))
		for k, item := range obj {
			conv, err := avroIn(s.Values(), item)
			if err != nil {
				return nil, err
			}
			out[k] = conv
		}
		return out, nil
	case *avro.UnionSchema:
		if v == nil {
			return nil, nil
		}
		for _, branch := range s.Types() {
			if branch.Type() == avro.Null || !jsonMatches(branch, v) {
				continue
			}
			conv, err := avroIn(branch, v)
			if err != nil {
				continue
			}
			if _, primitive := branch.(*avro.PrimitiveSchema); primitive {
				return conv, nil
			}
			// hamba/avro takes a non-primitive union branch as {"<type name>": value}.
			return map[string]interface{}{typeName(branch): conv}, nil
		}
		return nil, fmt.Errorf("no union branch fits the value")
	case *avro.EnumSchema:
		str, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("want a string for an enum")
		}
		return str, nil
	case *avro.PrimitiveSchema:
		return primitiveIn(s.Type(), v)
	default:
		return nil, fmt.Errorf("unsupported schema %s", schema.Type())
	}
}

// jsonMatches says whether a JSON value has the shape of a schema (to pick a union branch).
func jsonMatches(schema avro.Schema, v interface{}) bool {
	schema = resolveRef(schema)
	obj, isObj := v.(map[string]interface{})
	_, isBytes := obj["$bytes"]
	switch schema.Type() {
	case avro.Record, avro.Map:
		return isObj && !isBytes
	case avro.Bytes, avro.Fixed:
		return isObj && isBytes
	case avro.Array:
		_, ok := v.([]interface{})
		return ok
	case avro.String, avro.Enum:
		_, ok := v.(string)
		return ok
	case avro.Boolean:
		_, ok := v.(bool)
		return ok
	case avro.Int, avro.Long, avro.Float, avro.Double:
		_, ok := v.(json.Number)
		return ok
	}
	return false
}

func typeName(schema avro.Schema) string {
	schema = resolveRef(schema)
	if named, ok := schema.(avro.NamedSchema); ok {
		return named.FullName()
	}
	return string(schema.Type())
}

// avroOut turns what hamba/avro decoded generically into the JSON convention.
func avroOut(schema avro.Schema, v interface{}) (interface{}, error) {
	schema = resolveRef(schema)
	switch s := schema.(type) {
	case *avro.RecordSchema:
		obj, ok := v.(map[string]interface{})
		if !ok {
			return nil, fmt.Errorf("%s: decoded %T", s.FullName(), v)
		}
		out := make(map[string]interface{}, len(obj))
		for _, f := range s.Fields() {
			conv, err := avroOut(f.Type(), obj[f.Name()])
			if err != nil {
				return nil, fmt.Errorf("%s.%s: %w", s.FullName(), f.Name(), err)
			}
			out[f.Name()] = conv
		}
		return out, nil
	case *avro.ArraySchema:
		arr, ok := v.([]interface{})
		if !ok {
			return nil, fmt.Errorf("array decoded as %T", v)
		}
		out := make([]interface{}, len(arr))
		for i, item := range arr {
			conv, err := avroOut(s.Items(), item)
			if err != nil {
				return nil, err
			}
			out[i] = conv
		}
		return out, nil
	case *avro.MapSchema:
		obj, ok := v.(map[string]interface{})
		if !ok {
			return nil, fmt.Errorf("map decoded as %T", v)
		}
		out := make(map[string]interface{}, len(obj))
		for k, item := range obj {
			conv, err := avroOut(s.Values(), item)
			if err != nil {
				return nil, err
			}
			out[k] = conv
		}
		return out, nil
	case *avro.UnionSchema:
		if v == nil {
			return nil, nil
		}
		// hamba/avro decodes a union generically as {"<type name>": value}.
		if wrapped, ok := v.(map[string]interface{}); ok && len(wrapped) == 1 {
			for _, branch := range s.Types() {
				if inner, ok := wrapped[typeName(branch)]; ok {
					return avroOut(branch, inner)
				}
			}
		}
		return nil, fmt.Errorf("union value %T fits no branch", v)
	case *avro.PrimitiveSchema:
		if s.Type() == avro.Bytes {
			b, ok := v.([]byte)
			if !ok {
				return nil, fmt.Errorf("bytes decoded as %T", v)
			}
			return bytesOut(b), nil
		}
		return v, nil
	default:
		return v, nil
	}
}
