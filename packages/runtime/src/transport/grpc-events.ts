import { randomBytes } from 'node:crypto';
import { create, type DescMethod, type Message } from '@bufbuild/protobuf';
import { timestampDate, timestampFromDate, type Timestamp } from '@bufbuild/protobuf/wkt';
import { platformError } from 'carotene/model';
import { CloudEventSchema, EventsService } from './grpc-descriptors.ts';

/**
 * The reserved internal function a subscriber's runtime answers with its inbox; over gRPC it
 * is `carotene.events.v1.Events/Deliver`, with the events in the CloudEvents Protobuf Format.
 */
export const DELIVER_FN = '$deliver';

interface AttributeValue {
  attr:
    | { case: 'ceBoolean'; value: boolean }
    | { case: 'ceInteger'; value: number }
    | { case: 'ceString' | 'ceUri' | 'ceUriRef'; value: string }
    | { case: 'ceBytes'; value: Uint8Array }
    | { case: 'ceTimestamp'; value: Timestamp }
    | { case: undefined; value?: undefined };
}

interface CloudEventMessage extends Message {
  id: string;
  source: string;
  specVersion: string;
  type: string;
  attributes: Record<string, AttributeValue>;
  data:
    | { case: 'binaryData'; value: Uint8Array }
    | { case: 'textData'; value: string }
    | { case: 'protoData'; value: unknown }
    | { case: undefined; value?: undefined };
}

/** The attributes of an envelope (envelope.ts) besides the four the format has fields for. */
const STRING_ATTRIBUTES = ['subject', 'datacontenttype', 'traceparent', 'tracestate'] as const;

/** One envelope as a `io.cloudevents.v1.CloudEvent`: its data as JSON text, its attributes typed. */
function toCloudEvent(event: Record<string, unknown>): CloudEventMessage {
  const attributes: Record<string, AttributeValue> = {};
  if (typeof event.time === 'string') attributes.time = { attr: { case: 'ceTimestamp', value: timestampFromDate(new Date(event.time)) } };
  for (const name of STRING_ATTRIBUTES) {
    const value = event[name];
    if (typeof value === 'string') attributes[name] = { attr: { case: 'ceString', value } };
  }
  if (typeof event.schemaversion === 'number') attributes.schemaversion = { attr: { case: 'ceInteger', value: event.schemaversion } };
  return create(CloudEventSchema, {
    id: String(event.id),
    source: String(event.source),
    specVersion: String(event.specversion),
    type: String(event.type),
    attributes,
    data: { case: 'textData', value: JSON.stringify(event.data ?? null) },
  } as never) as CloudEventMessage;
}

/**
 * A received `CloudEvent` as the JSON envelope the inbox keeps, for the receiver's own
 * validation (envelope.ts) to check. The format leaves `time`, `subject` and `traceparent`
 * optional; a sender in another language that omits them gets the receipt time, the event's
 * id as its ordering key and a new trace. The data must be JSON (`text_data`, or UTF-8
 * `binary_data`), as Carotene's events are. Throws INVALID_INPUT naming the event and attribute.
 */
function fromCloudEvent(message: CloudEventMessage, index: number): Record<string, unknown> {
  const where = `events[${index}]`;
  const event: Record<string, unknown> = { specversion: message.specVersion, id: message.id, source: message.source, type: message.type };
  for (const [name, value] of Object.entries(message.attributes)) {
    const attr = value.attr;
    if (attr.case === undefined) continue;
    if (name === 'time') {
      if (attr.case === 'ceTimestamp') event.time = timestampDate(attr.value).toISOString();
      else if (attr.case === 'ceString' && !Number.isNaN(Date.parse(attr.value))) event.time = new Date(attr.value).toISOString();
      else throw invalid(`${where}.attributes.time`, 'must be a ce_timestamp (or an RFC 3339 ce_string)');
    } else if (name === 'schemaversion') {
      const version = attr.case === 'ceInteger' ? attr.value : attr.case === 'ceString' ? Number(attr.value) : Number.NaN;
      if (!Number.isInteger(version) || version < 1) throw invalid(`${where}.attributes.schemaversion`, 'must be a positive ce_integer');
      event.schemaversion = version;
    } else if ((STRING_ATTRIBUTES as readonly string[]).includes(name)) {
      if (attr.case !== 'ceString' && attr.case !== 'ceUri' && attr.case !== 'ceUriRef') throw invalid(`${where}.attributes.${name}`, 'must be a ce_string');
      event[name] = attr.value;
    }
    // other extension attributes are not part of a Carotene event: not kept
  }
  event.time ??= new Date().toISOString();
  event.subject ??= message.id;
  event.datacontenttype ??= 'application/json';
  event.traceparent ??= `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-03`;
  event.schemaversion ??= 1;
  const data = message.data;
  let text: string;
  if (data.case === 'textData') text = data.value;
  else if (data.case === 'binaryData') text = new TextDecoder('utf-8', { fatal: false }).decode(data.value);
  else if (data.case === 'protoData') throw invalid(`${where}.proto_data`, 'Carotene events carry JSON: send it as text_data');
  else throw invalid(`${where}.data`, 'is missing: send the event data as JSON in text_data');
  try {
    event.data = JSON.parse(text);
  } catch {
    throw invalid(`${where}.${data.case === 'textData' ? 'text_data' : 'binary_data'}`, 'is not JSON');
  }
  return event;
}

function invalid(path: string, message: string) {
  return platformError('INVALID_INPUT', `${path}: ${message}`, { details: [{ path, message }] });
}

const [deliver] = EventsService.methods as [DescMethod];

/** As grpc-server.ts's MessageCodec (not imported: the server imports this file). */
interface Codec {
  toMessage(value: unknown): Message;
  fromMessage(message: Message): unknown;
}

/** `Events/Deliver` as the gRPC client and server see any function: its method and codecs of `{ events }` and `{ accepted }`. */
export const DELIVER_METHOD: { readonly method: DescMethod; readonly input: Codec; readonly output: Codec } = {
  method: deliver,
  input: {
    toMessage: (value) => create(deliver.input, { events: ((value as { events?: Record<string, unknown>[] }).events ?? []).map(toCloudEvent) } as never),
    fromMessage: (message) => ({ events: (message as Message & { events: CloudEventMessage[] }).events.map(fromCloudEvent) }),
  },
  output: {
    toMessage: (value) => create(deliver.output, { accepted: Number((value as { accepted?: unknown }).accepted ?? 0) } as never),
    fromMessage: (message) => ({ accepted: (message as Message & { accepted: number }).accepted }),
  },
};
