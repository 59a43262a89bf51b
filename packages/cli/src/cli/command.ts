/** Where a command writes: one line at a time, so tests can capture it. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

export const processIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/**
 * One `carrot` sub-command. Each lives in its own file under `commands/` and parses its
 * own arguments (with {@link parseOrUsage}); `main` handles `--help` and errors.
 *
 * ```ts
 * export const status: Command = { name: 'status', summary: 'Health of a running app', usage: '...', run: async (argv, io) => 0 };
 * ```
 */
export interface Command {
  readonly name: string;
  /** One line for the command list of `carrot --help`. */
  readonly summary: string;
  /** Full help text of `carrot <name> --help`. */
  readonly usage: string;
  /** Resolves with the process exit code. */
  run(argv: readonly string[], io: CliIo): Promise<number>;
}

/** Wrong arguments: `main` prints the message and the usage, and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A failure the user can act on: `main` prints the message alone and exits with `exitCode`. */
export class CliError extends Error {
  override readonly name = 'CliError';
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** Runs a `parseArgs` call and turns its argument errors into a {@link UsageError}. */
export function parseOrUsage<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) throw new UsageError(firstSentence((err as Error).message));
    throw err;
  }
}

/** parseArgs explains at length; the first sentence is the part that names the problem. */
function firstSentence(message: string): string {
  const first = message.split(/\.\s/)[0] ?? message;
  return first.charAt(0).toLowerCase() + first.slice(1);
}
