// Command conformance is Confluent's Go client (confluent-kafka-go/v2 schemaregistry serdes with the
// CSFLE rule executors and the local-kms and aws-kms drivers) behind a JSON-lines protocol, so that
// recrypt's test suite can use it as a second oracle: one request per stdin line, one response per
// stdout line, in order.
//
// Request:  {"id":1,"op":"serialize","format":"AVRO","topic":"t","value":<json>,"typeName":"demo.M"}
//
//	{"id":2,"op":"deserialize","format":"AVRO","topic":"t","payload":"<base64>"}
//	{"id":3,"op":"clock","nowMs":1700000000000}   (the executors' clock; 0 = the real clock)
//
// Response: {"id":1,"payload":"<base64>"} | {"id":2,"value":<json>} | {"id":n,"error":"..."}
//
// Values are JSON in each format's own convention (see codec_avro.go, and protojson for Protobuf;
// JSON Schema values are plain JSON). The registry URL comes from SCHEMA_REGISTRY_URL, the local-kms
// secret from LOCAL_SECRET, the AWS endpoint from AWS_ENDPOINT_URL_KMS (read by the AWS SDK itself).
package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/schemaregistry"
	"github.com/confluentinc/confluent-kafka-go/v2/schemaregistry/rules/encryption"
	_ "github.com/confluentinc/confluent-kafka-go/v2/schemaregistry/rules/encryption/awskms"
	_ "github.com/confluentinc/confluent-kafka-go/v2/schemaregistry/rules/encryption/localkms"
	"github.com/confluentinc/confluent-kafka-go/v2/schemaregistry/serde"
)

type request struct {
	ID       int64           `json:"id"`
	Op       string          `json:"op"`
	Format   string          `json:"format"`
	Topic    string          `json:"topic"`
	TypeName string          `json:"typeName"`
	Value    json.RawMessage `json:"value"`
	Payload  string          `json:"payload"`
	NowMs    int64           `json:"nowMs"`
}

type response struct {
	ID      int64           `json:"id"`
	Payload string          `json:"payload,omitempty"`
	Value   json.RawMessage `json:"value,omitempty"`
	Error   string          `json:"error,omitempty"`
}

// settableClock lets a test move the executors' "now" to check DEK expiry (encrypt.dek.expiry.days).
type settableClock struct{ nowMs atomic.Int64 }

func (c *settableClock) NowUnixMilli() int64 {
	if v := c.nowMs.Load(); v != 0 {
		return v
	}
	return time.Now().UnixMilli()
}

// codec serializes and deserializes one format.
type codec interface {
	serialize(topic, typeName string, value json.RawMessage) ([]byte, error)
	deserialize(topic string, payload []byte) (json.RawMessage, error)
}

func main() {
	url := os.Getenv("SCHEMA_REGISTRY_URL")
	if url == "" {
		fmt.Fprintln(os.Stderr, "SCHEMA_REGISTRY_URL is not set")
		os.Exit(2)
	}
	clock := &settableClock{}
	// Replace the executors the encryption package registered at init with ones on our clock.
	encryption.RegisterExecutorWithClock(clock)
	encryption.RegisterFieldExecutorWithClock(clock)

	client, err := schemaregistry.NewClient(schemaregistry.NewConfig(url))
	if err != nil {
		fmt.Fprintln(os.Stderr, "registry client:", err)
		os.Exit(2)
	}
	ruleConfig := map[string]string{}
	if secret := os.Getenv("LOCAL_SECRET"); secret != "" {
		ruleConfig["secret"] = secret
	}
	codecs := map[string]codec{}
	build := func(format string) (codec, error) {
		if c, ok := codecs[format]; ok {
			return c, nil
		}
		var c codec
		var err error
		switch format {
		case "AVRO":
			c, err = newAvroCodec(client, ruleConfig, false)
		case "AVRO_GENERIC":
			c, err = newAvroCodec(client, ruleConfig, true)
		case "PROTOBUF":
			c, err = newProtoCodec(client, ruleConfig)
		case "JSON":
			c, err = newJSONCodec(client, ruleConfig)
		default:
			err = fmt.Errorf("unknown format %q", format)
		}
		if err == nil {
			codecs[format] = c
		}
		return c, err
	}

	in := bufio.NewReaderSize(os.Stdin, 1<<20)
	out := bufio.NewWriter(os.Stdout)
	enc := json.NewEncoder(out)
	for {
		line, readErr := in.ReadBytes('\n')
		if len(line) > 0 {
			var req request
			resp := response{}
			if err := json.Unmarshal(line, &req); err != nil {
				resp.Error = "bad request: " + err.Error()
			} else {
				resp = handle(req, clock, build)
			}
			if err := enc.Encode(resp); err != nil {
				fmt.Fprintln(os.Stderr, "write:", err)
				os.Exit(1)
			}
		}
		// Flush only when no further request is already waiting: batches stay cheap.
		if in.Buffered() == 0 || readErr != nil {
			_ = out.Flush()
		}
		if readErr == io.EOF {
			return
		}
		if readErr != nil {
			fmt.Fprintln(os.Stderr, "read:", readErr)
			os.Exit(1)
		}
	}
}

func handle(req request, clock *settableClock, build func(string) (codec, error)) (resp response) {
	resp.ID = req.ID
	// A panic inside the client is an answer too (a test may pin it): report it, keep serving.
	defer func() {
		if p := recover(); p != nil {
			resp = response{ID: req.ID, Error: fmt.Sprintf("panic: %v\n%s", p, debug.Stack())}
		}
	}()
	fail := func(err error) response { resp.Error = err.Error(); return resp }
	switch req.Op {
	case "clock":
		clock.nowMs.Store(req.NowMs)
		return resp
	case "serialize":
		c, err := build(req.Format)
		if err != nil {
			return fail(err)
		}
		var payload []byte
		err = retryTransient(func() (e error) { payload, e = c.serialize(req.Topic, req.TypeName, req.Value); return })
		if err != nil {
			return fail(err)
		}
		resp.Payload = base64.StdEncoding.EncodeToString(payload)
		return resp
	case "deserialize":
		c, err := build(req.Format)
		if err != nil {
			return fail(err)
		}
		payload, err := base64.StdEncoding.DecodeString(req.Payload)
		if err != nil {
			return fail(err)
		}
		var value json.RawMessage
		err = retryTransient(func() (e error) { value, e = c.deserialize(req.Topic, payload); return })
		if err != nil {
			return fail(err)
		}
		resp.Value = value
		return resp
	default:
		return fail(fmt.Errorf("unknown op %q", req.Op))
	}
}

// retryTransient retries an operation that failed on a dropped connection: moto (the test AWS KMS)
// sometimes closes a kept-alive connection under the AWS SDK, which reports it as a response-body
// error that the SDK does not retry. Anything else fails at once.
func retryTransient(op func() error) error {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if err = op(); err == nil || !isTransient(err) {
			return err
		}
		time.Sleep(time.Duration(50*(attempt+1)) * time.Millisecond)
	}
	return err
}

func isTransient(err error) bool {
	msg := err.Error()
	for _, s := range []string{"use of closed network connection", "connection reset by peer", "unexpected EOF"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

func serializerConfig(ruleConfig map[string]string) serde.SerializerConfig {
	conf := *serde.NewSerializerConfig()
	conf.AutoRegisterSchemas = false
	conf.UseLatestVersion = true
	conf.RuleConfig = ruleConfig
	return conf
}

func deserializerConfig(ruleConfig map[string]string) serde.DeserializerConfig {
	conf := *serde.NewDeserializerConfig()
	conf.RuleConfig = ruleConfig
	return conf
}
