import { pino, type Logger } from 'pino';
import { activeIds } from '../telemetry/spans.ts';

export type { Logger };

/**
 * JSON lines on stdout, one field set for every Carotene process. A line written while a
 * span is active carries its `trace_id` and `span_id`, so logs and traces join.
 */
export function createLogger(service: string, level = 'info', destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service },
      messageKey: 'msg',
      timestamp: isoTime,
      formatters: { level: (label, number) => ({ level: number, levelName: label }) },
      // a fresh object each time: pino merges the line's fields into what the mixin returns
      mixin: () => activeIds() ?? {},
    },
    destination,
  );
}

let lastMs = 0;
let lastTime = '';

/** pino's `isoTime`, formatted once per millisecond: busy services write many lines a millisecond. */
function isoTime(): string {
  const now = Date.now();
  if (now !== lastMs) {
    lastMs = now;
    lastTime = `,"time":"${new Date(now).toISOString()}"`;
  }
  return lastTime;
}
