// The package provides what the runtime loads it for (checked by tsc).
import type { JetStreamEngine } from '../../runtime/src/events/event-transport.ts';
import * as engine from '../src/index.ts';

engine satisfies JetStreamEngine;
