/**
 * The two `.proto` files of event delivery to and from services in other languages, as
 * `carrot contracts proto` writes them into the app's proto folder (paths are the import
 * paths): the CloudEvents Protobuf Format's message, and `carotene.events.v1.Events`, the
 * one method every Carotene service serves and every external subscriber implements.
 * The descriptors the runtime serves are built from the same fields (transport/grpc-descriptors.ts);
 * a test compiles these with protoc and compares.
 */

/**
 * The CloudEvents Protobuf Format (cloudevents/spec, `cloudevents.proto`), field for field, in
 * package `io.cloudevents.v1`; beside events.proto rather than under `io/`, a folder that
 * would hide Python's `io` module from stubs generated into one tree.
 */
export const CLOUDEVENTS_PROTO_PATH = 'carotene/events/v1/cloudevents.proto';

export const CLOUDEVENTS_PROTO = `// The CloudEvents Protobuf Format, version 1.0 (github.com/cloudevents/spec, protobuf-format.md).
// Written by carrot contracts proto for event delivery to and from services in other languages.
syntax = "proto3";

package io.cloudevents.v1;

import "google/protobuf/any.proto";
import "google/protobuf/timestamp.proto";

message CloudEvent {
  // Required attributes
  string id = 1;
  string source = 2; // URI-reference
  string spec_version = 3;
  string type = 4;

  // Optional and extension attributes
  map<string, CloudEventAttributeValue> attributes = 5;

  // Carotene sends JSON as text_data and accepts text_data or binary_data holding JSON
  oneof data {
    bytes binary_data = 6;
    string text_data = 7;
    google.protobuf.Any proto_data = 8;
  }

  message CloudEventAttributeValue {
    oneof attr {
      bool ce_boolean = 1;
      int32 ce_integer = 2;
      string ce_string = 3;
      bytes ce_bytes = 4;
      string ce_uri = 5;
      string ce_uri_ref = 6;
      google.protobuf.Timestamp ce_timestamp = 7;
    }
  }
}

message CloudEventBatch {
  repeated CloudEvent events = 1;
}
`;

export const EVENTS_PROTO_PATH = 'carotene/events/v1/events.proto';

export const EVENTS_PROTO = `// Event delivery between the members of a Carotene app (docs/grpc.md, "Events").
// Written by carrot contracts proto; every Carotene service serves Events, and a service in
// another language that subscribes to events serves it too.
syntax = "proto3";

package carotene.events.v1;

import "${CLOUDEVENTS_PROTO_PATH}";

service Events {
  // Hands over a batch of one publisher's events, in order. Answer OK only once every event
  // is stored durably (a redelivery of the same id is acknowledged again and not kept twice);
  // any other status makes the publisher deliver the batch again later. Attributes besides the
  // required four: time (ce_timestamp), subject (the ordering key), datacontenttype
  // ("application/json"), traceparent and tracestate (W3C Trace Context), schemaversion (ce_integer).
  rpc Deliver(DeliverRequest) returns (DeliverResponse);
}

message DeliverRequest {
  repeated io.cloudevents.v1.CloudEvent events = 1;
}

message DeliverResponse {
  // How many events were acknowledged: all of the batch (those the receiver does not subscribe to are not kept).
  uint32 accepted = 1;
}
`;

/** Both files by their path in the proto folder. */
export const EVENT_PROTO_FILES: ReadonlyMap<string, string> = new Map([
  [CLOUDEVENTS_PROTO_PATH, CLOUDEVENTS_PROTO],
  [EVENTS_PROTO_PATH, EVENTS_PROTO],
]);
