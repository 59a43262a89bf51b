import { readFileSync } from 'node:fs';
import { CliError, processIo, UsageError, type CliIo, type Command } from './command.ts';
import { commands } from './commands/index.ts';

function usage(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return `Usage: carrot <command> [options]

Commands:
${commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Options:
  -h, --help     Show help; \`carrot <command> --help\` for one command
  -v, --version  Print the version`;
}

/**
 * The `carrot` command line. Resolves with the exit code: 0 on success, 1 when the command
 * failed, 2 for wrong arguments (with the usage on stderr).
 *
 * ```ts
 * process.exit(await main(process.argv.slice(2)));
 * ```
 */
export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) return usageError(io, 'missing command', usage());
  if (first === '-h' || first === '--help' || first === 'help') return help(rest[0], io);
  if (first === '-v' || first === '--version') {
    io.out(version());
    return 0;
  }
  if (first.startsWith('-')) return usageError(io, `unknown option '${first}'`, usage());
  const command = commands.find((c) => c.name === first);
  if (!command) return usageError(io, `unknown command '${first}'`, usage());
  if (wantsHelp(rest)) {
    io.out(command.usage);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError) return usageError(io, err.message, command.usage, command);
    if (err instanceof CliError) {
      io.err(`carrot ${command.name}: ${err.message}`);
      return err.exitCode;
    }
    io.err(`carrot ${command.name}: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return 1;
  }
}

function help(name: string | undefined, io: CliIo): number {
  if (name === undefined) {
    io.out(usage());
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) return usageError(io, `unknown command '${name}'`, usage());
  io.out(command.usage);
  return 0;
}

function usageError(io: CliIo, message: string, text: string, command?: Command): number {
  io.err(`carrot${command ? ` ${command.name}` : ''}: ${message}`);
  io.err('');
  io.err(text);
  return 2;
}

/** `--help` or `-h` anywhere before a `--` terminator. */
function wantsHelp(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../carotene/package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version ?? 'unknown';
}
