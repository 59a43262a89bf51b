// @carotene/runtime/events: what Carotene's other packages use of this layer.
export { backoffMs } from './backoff.ts';
export { listDeadLetters, replayDeadLetters } from './dead-letters.ts';
export { buildEnvelope, type CloudEvent, parseEnvelope } from './envelope.ts';
export type { AcceptEvents, EventTransport } from './event-transport.ts';
export { Inbox } from './inbox.ts';
export { Outbox } from './outbox.ts';
export { INBOX, type InboxRow, migrateEventTables, OUTBOX, type OutboxRow } from './platform-tables.ts';
export type { JetStreamEngine } from './event-transport.ts';
