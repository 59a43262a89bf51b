/** A warning, error or fatal line a child logged, worth showing in the `carrot dev` terminal. */
export interface ChildLogError {
  readonly level: number;
  readonly msg: string;
  /** The error's code: a Carotene code (`UNAVAILABLE`), a system one (`ENOSPC`), else the error's type. */
  readonly code: string | undefined;
  /** What went wrong, when the line says more than its `msg`. */
  readonly message: string | undefined;
}

/** pino levels: 40 = warn, 50 = error, 60 = fatal. */
const WARN_LEVEL = 40;

/** The start of a pino line: its numeric level comes first. */
const LEADING_LEVEL = /^\{"level":(\d+)[,}]/;

/**
 * Reads one output line of a child. Returns the error it reports when the line is a JSON
 * log record at warn level or above; anything else (info records, plain text) is undefined.
 * The code and message come from the record's `err` (an error object as pino writes it, or
 * a string), its `error` (a code, or an object), or its own `code` and `message` fields.
 */
export function parseErrorLine(line: string): ChildLogError | undefined {
  if (!line.startsWith('{')) return undefined;
  // Carotene's own lines start with their level: most are info, and need no parsing at all
  const leading = LEADING_LEVEL.exec(line);
  if (leading && Number(leading[1]) < WARN_LEVEL) return undefined;
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof record !== 'object' || record === null) return undefined;
  const r = record as Record<string, unknown>;
  if (typeof r['level'] !== 'number' || r['level'] < WARN_LEVEL) return undefined;
  const err = pick(r, 'err') ?? pick(r, 'error');
  const code = str(r['code']) ?? str(err?.['code']) ?? str(r['error']) ?? str(err?.['type']) ?? str(err?.['name']);
  const message = str(err?.['message']) ?? str(r['err']) ?? str(r['message']) ?? str(r['reason']);
  const msg = str(r['msg']) ?? message ?? '(no message)';
  // a message the line's msg already spells out is not repeated
  return { level: r['level'], msg, code, message: message !== undefined && msg.includes(message) ? undefined : message };
}

/** `[orders] call failed — UNAVAILABLE: inventory is unreachable`, `[orders] warn: ...`, `[users] fatal: ...`. */
export function formatErrorLine(service: string, e: ChildLogError): string {
  const label = e.level >= 60 ? 'fatal: ' : e.level < 50 ? 'warn: ' : '';
  const cause = e.code && e.message ? `${e.code}: ${e.message}` : (e.code ?? e.message);
  return `[${service}] ${label}${e.msg}${cause ? ` — ${cause}` : ''}`;
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
