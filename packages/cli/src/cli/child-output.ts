/** An error or fatal line a child logged, worth showing in the `carrot dev` terminal. */
export interface ChildLogError {
  readonly level: number;
  readonly msg: string;
  readonly code: string | undefined;
}

/** pino levels: 50 = error, 60 = fatal. */
const ERROR_LEVEL = 50;

/** The start of a pino line: its numeric level comes first. */
const LEADING_LEVEL = /^\{"level":(\d+)[,}]/;

/**
 * Reads one output line of a child. Returns the error it reports when the line is a JSON
 * log record at error level or above; anything else (info records, plain text) is undefined.
 */
export function parseErrorLine(line: string): ChildLogError | undefined {
  if (!line.startsWith('{')) return undefined;
  // Carotene's own lines start with their level: most are info, and need no parsing at all
  const leading = LEADING_LEVEL.exec(line);
  if (leading && Number(leading[1]) < ERROR_LEVEL) return undefined;
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof record !== 'object' || record === null) return undefined;
  const r = record as Record<string, unknown>;
  if (typeof r['level'] !== 'number' || r['level'] < ERROR_LEVEL) return undefined;
  const err = pick(r, 'err') ?? pick(r, 'error');
  const msg = str(r['msg']) ?? str(err?.['message']) ?? '(no message)';
  const code = str(r['code']) ?? str(err?.['code']);
  return { level: r['level'], msg, code };
}

/** `[orders] could not reach inventory (UNAVAILABLE)`. */
export function formatErrorLine(service: string, e: ChildLogError): string {
  const label = e.level >= 60 ? 'fatal: ' : '';
  return `[${service}] ${label}${e.msg}${e.code ? ` (${e.code})` : ''}`;
}

/**
 * Splits a byte stream into lines, keeping a partial last line until its end arrives.
 * `flush` hands over what is left when the stream ends.
 */
export class LineSplitter {
  #rest = '';
  readonly #onLine: (line: string) => void;

  constructor(onLine: (line: string) => void) {
    this.#onLine = onLine;
  }

  push(chunk: Buffer | string): void {
    const text = this.#rest + chunk.toString();
    const lines = text.split('\n');
    this.#rest = lines.pop() ?? '';
    for (const line of lines) this.#onLine(line);
  }

  flush(): void {
    if (this.#rest) this.#onLine(this.#rest);
    this.#rest = '';
  }
}

function pick(r: Record<string, unknown>, key: string): Record<string, unknown> | undefined {
  const v = r[key];
  return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}
