import pg from 'pg';
import type { Log } from 'carotene/model';
import { backoffMs } from '@carotene/runtime/events';

/**
 * Keeps one PostgreSQL connection on `LISTEN channel` and calls `onNotify` for each
 * notification, reconnecting with backoff when the connection drops (the relay's poll
 * covers the gap).
 */
export function listen(url: string, channel: string, onNotify: () => void, log: Log): { close(): Promise<void> } {
  let closed = false;
  let client: pg.Client | undefined;
  let failures = 0;
  const open = async (): Promise<void> => {
    if (closed) return;
    const c = new pg.Client({ connectionString: url });
    client = c;
    c.on('notification', () => onNotify());
    c.on('error', () => retry(c));
    c.on('end', () => retry(c));
    try {
      await c.connect();
      await c.query(`LISTEN ${channel}`);
      failures = 0;
      // whatever was committed while not listening
      onNotify();
    } catch (err) {
      log.warn({ err: String(err) }, 'LISTEN connection failed; the relay polls meanwhile');
      retry(c);
    }
  };
  const retry = (c: pg.Client) => {
    if (closed || client !== c) return;
    client = undefined;
    c.end().catch(() => undefined);
    failures++;
    setTimeout(() => void open(), backoffMs(failures, 200, 5000)).unref();
  };
  void open();
  return {
    async close() {
      closed = true;
      await client?.end().catch(() => undefined);
    },
  };
}
