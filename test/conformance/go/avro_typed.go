package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/hamba/avro/v2"
)

// resolveRef gives the schema a reference to a named type (a reused record, enum or fixed) stands for.
func resolveRef(schema avro.Schema) avro.Schema {
	if ref, ok := schema.(*avro.RefSchema); ok {
		return ref.Schema()
	}
	return schema
}

var anyType = reflect.TypeOf((*interface{})(nil)).Elem()

// goType is the Go type generated code would use for an Avro schema. Records get exported field names
// F0, F1, ... with `avro:"<name>"` tags; records met on the way are collected by full name.
func goType(schema avro.Schema, records map[string]reflect.Type) (reflect.Type, error) {
	schema = resolveRef(schema)
	switch s := schema.(type) {
	case *avro.RecordSchema:
		if t, ok := records[s.FullName()]; ok {
			return t, nil
		}
		fields := make([]reflect.StructField, 0, len(s.Fields()))
		for i, f := range s.Fields() {
			ft, err := goType(f.Type(), records)
			if err != nil {
				return nil, fmt.Errorf("%s.%s: %w", s.FullName(), f.Name(), err)
			}
			fields = append(fields, reflect.StructField{Name: fmt.Sprintf("F%d", i), Type: ft, Tag: reflect.StructTag(fmt.Sprintf(`avro:%q`, f.Name()))})
		}
		t := reflect.StructOf(fields)
		records[s.FullName()] = t
		return t, nil
	case *avro.ArraySchema:
		t, err := goType(s.Items(), records)
		if err != nil {
			return nil, err
		}
		return reflect.SliceOf(t), nil
	case *avro.MapSchema:
		t, err := goType(s.Values(), records)
		if err != nil {
			return nil, err
		}
		return reflect.MapOf(reflect.TypeOf(""), t), nil
	case *avro.UnionSchema:
		types := s.Types()
		if len(types) == 2 && s.Nullable() {
			other := types[0]
			if other.Type() == avro.Null {
				other = types[1]
			}
			t, err := goType(other, records)
			if err != nil {
				return nil, err
			}
			return reflect.PointerTo(t), nil
		}
		// Any other union is an interface field holding the branch's Go value (records registered
		// with the serdes by name, as an application registers its types for unions).
		for _, branch := range types {
			if branch.Type() != avro.Null {
				if _, err := goType(branch, records); err != nil {
					return nil, err
				}
			}
		}
		return anyType, nil
	case *avro.EnumSchema:
		return reflect.TypeOf(""), nil
	case *avro.FixedSchema:
		return reflect.ArrayOf(s.Size(), reflect.TypeOf(byte(0))), nil
	case *avro.PrimitiveSchema:
		switch s.Type() {
		case avro.Boolean:
			return reflect.TypeOf(false), nil
		case avro.Int:
			return reflect.TypeOf(int32(0)), nil
		case avro.Long:
			return reflect.TypeOf(int64(0)), nil
		case avro.Float:
			return reflect.TypeOf(float32(0)), nil
		case avro.Double:
			return reflect.TypeOf(float64(0)), nil
		case avro.String:
			return reflect.TypeOf(""), nil
		case avro.Bytes:
			return reflect.TypeOf([]byte(nil)), nil
		}
	}
	return nil, fmt.Errorf("unsupported schema %s", schema.Type())
}

// typedIn fills dst (of goType(schema)) from a JSON value decoded with UseNumber.
func typedIn(schema avro.Schema, v interface{}, dst reflect.Value, records map[string]reflect.Type) error {
	schema = resolveRef(schema)
	switch s := schema.(type) {
	case *avro.RecordSchema:
		obj, ok := v.(map[string]interface{})
		if !ok {
			return fmt.Errorf("%s: want an object", s.FullName())
		}
		for i, f := range s.Fields() {
			fv, present := obj[f.Name()]
			if !present && f.HasDefault() {
				fv = f.Default()
			}
			if err := typedIn(f.Type(), fv, dst.Field(i), records); err != nil {
				return fmt.Errorf("%s.%s: %w", s.FullName(), f.Name(), err)
			}
		}
		return nil
	case *avro.ArraySchema:
		arr, ok := v.([]interface{})
		if !ok {
			return fmt.Errorf("want an array")
		}
		out := reflect.MakeSlice(dst.Type(), len(arr), len(arr))
		for i, item := range arr {
			if err := typedIn(s.Items(), item, out.Index(i), records); err != nil {
				return err
			}
		}
		dst.Set(out)
		return nil
	case *avro.MapSchema:
		obj, ok := v.(map[string]interface{})
		if !ok {
			return fmt.Errorf("want an object for a map")
		}
		out := reflect.MakeMapWithSize(dst.Type(), len(obj))
		for k, item := range obj {
			elem := reflect.New(dst.Type().Elem()).Elem()
			if err := typedIn(s.Values(), item, elem, records); err != nil {
				return err
			}
			out.SetMapIndex(reflect.ValueOf(k), elem)
		}
		dst.Set(out)
		return nil
	case *avro.UnionSchema:
		if v == nil {
			dst.Set(reflect.Zero(dst.Type()))
			return nil
		}
		if dst.Type() == anyType {
			for _, branch := range s.Types() {
				if branch.Type() == avro.Null || !jsonMatches(branch, v) {
					continue
				}
				t, err := goType(branch, records)
				if err != nil {
					return err
				}
				val := reflect.New(t).Elem()
				if err := typedIn(branch, v, val, records); err != nil {
					continue
				}
				dst.Set(val)
				return nil
			}
			return fmt.Errorf("no union branch fits the value")
		}
		other := s.Types()[0]
		if other.Type() == avro.Null {
			other = s.Types()[1]
		}
		ptr := reflect.New(dst.Type().Elem())
		if err := typedIn(other, v, ptr.Elem(), records); err != nil {
			return err
		}
		dst.Set(ptr)
		return nil
	case *avro.EnumSchema:
		str, ok := v.(string)
		if !ok {
			return fmt.Errorf("want a string for an enum")
		}
		dst.SetString(str)
		return nil
	case *avro.FixedSchema:
		b, err := bytesIn(v)
		if err != nil {
			return err
		}
		reflect.Copy(dst, reflect.ValueOf(b))
		return nil
	case *avro.PrimitiveSchema:
		p, err := primitiveIn(s.Type(), v)
		if err != nil {
			return err
		}
		dst.Set(reflect.ValueOf(p).Convert(dst.Type()))
		return nil
	}
	return fmt.Errorf("unsupported schema %s", schema.Type())
}

// typedOut is typedIn's inverse.
func typedOut(schema avro.Schema, v reflect.Value, records map[string]reflect.Type) (interface{}, error) {
	schema = resolveRef(schema)
	switch s := schema.(type) {
	case *avro.RecordSchema:
		out := make(map[string]interface{}, len(s.Fields()))
		for i, f := range s.Fields() {
			fv, err := typedOut(f.Type(), v.Field(i), records)
			if err != nil {
				return nil, fmt.Errorf("%s.%s: %w", s.FullName(), f.Name(), err)
			}
			out[f.Name()] = fv
		}
		return out, nil
	case *avro.ArraySchema:
		out := make([]interface{}, v.Len())
		for i := range out {
			item, err := typedOut(s.Items(), v.Index(i), records)
			if err != nil {
				return nil, err
			}
			out[i] = item
		}
		return out, nil
	case *avro.MapSchema:
		out := make(map[string]interface{}, v.Len())
		iter := v.MapRange()
		for iter.Next() {
			item, err := typedOut(s.Values(), iter.Value(), records)
			if err != nil {
				return nil, err
			}
			out[iter.Key().String()] = item
		}
		return out, nil
	case *avro.UnionSchema:
		if v.IsNil() {
			return nil, nil
		}
		if v.Type() == anyType {
			return unionOut(s, v.Elem(), records)
		}
		other := s.Types()[0]
		if other.Type() == avro.Null {
			other = s.Types()[1]
		}
		return typedOut(other, v.Elem(), records)
	case *avro.FixedSchema:
		b := make([]byte, v.Len())
		reflect.Copy(reflect.ValueOf(b), v)
		return bytesOut(b), nil
	case *avro.PrimitiveSchema:
		if s.Type() == avro.Bytes {
			return bytesOut(v.Bytes()), nil
		}
		return v.Interface(), nil
	default:
		return v.Interface(), nil
	}
}

func bytesIn(v interface{}) ([]byte, error) {
	obj, ok := v.(map[string]interface{})
	str, ok2 := obj["$bytes"].(string)
	if !ok || !ok2 {
		return nil, fmt.Errorf("want {\"$bytes\": base64} for bytes")
	}
	return base64.StdEncoding.DecodeString(str)
}

func bytesOut(b []byte) interface{} {
	return map[string]interface{}{"$bytes": base64.StdEncoding.EncodeToString(b)}
}

func primitiveIn(t avro.Type, v interface{}) (interface{}, error) {
	num := func() (json.Number, error) {
		n, ok := v.(json.Number)
		if !ok {
			return "", fmt.Errorf("want a number for %s", t)
		}
		return n, nil
	}
	switch t {
	case avro.Null:
		return nil, nil
	case avro.Boolean:
		b, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("want a boolean")
		}
		return b, nil
	case avro.Int:
		n, err := num()
		if err != nil {
			return nil, err
		}
		i, err := n.Int64()
		return int(i), err
	case avro.Long:
		n, err := num()
		if err != nil {
			return nil, err
		}
		return n.Int64()
	case avro.Float:
		n, err := num()
		if err != nil {
			return nil, err
		}
		f, err := n.Float64()
		return float32(f), err
	case avro.Double:
		n, err := num()
		if err != nil {
			return nil, err
		}
		return n.Float64()
	case avro.String:
		str, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("want a string")
		}
		return str, nil
	case avro.Bytes:
		return bytesIn(v)
	}
	return nil, fmt.Errorf("unsupported primitive %s", t)
}

// unionOut finds the branch of a union that a decoded Go value belongs to.
func unionOut(s *avro.UnionSchema, v reflect.Value, records map[string]reflect.Type) (interface{}, error) {
	for _, branch := range s.Types() {
		branch = resolveRef(branch)
		if branch.Type() == avro.Null {
			continue
		}
		t, err := goType(branch, records)
		if err != nil {
			return nil, err
		}
		if v.Type() == t {
			return typedOut(branch, v, records)
		}
	}
	// hamba/avro decodes an int branch as int, a long as int64: numbers need no branch.
	switch v.Kind() {
	case reflect.Int, reflect.Int32, reflect.Int64, reflect.Float32, reflect.Float64, reflect.Bool, reflect.String:
		return v.Interface(), nil
	}
	return nil, fmt.Errorf("union value %s fits no branch", v.Type())
}
