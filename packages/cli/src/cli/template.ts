import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The files of a new app (`packages/cli/templates/app`), shipped with the CLI. */
const TEMPLATE = fileURLToPath(new URL('../../templates/app/', import.meta.url));

// npm pack leaves out files named .gitignore, so the template keeps it under another name
const RENAMED: Record<string, string> = { gitignore: '.gitignore' };

/** Copies the app template into `dir`, with `{{name}}` replaced; returns the files written. */
export function writeTemplate(dir: string, vars: { readonly name: string }, from = TEMPLATE): string[] {
  const written: string[] = [];
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const target = join(dir, RENAMED[entry.name] ?? entry.name);
    if (entry.isDirectory()) {
      mkdirSync(target, { recursive: true });
      written.push(...writeTemplate(target, vars, join(from, entry.name)));
      continue;
    }
    writeFileSync(target, readFileSync(join(from, entry.name), 'utf8').replaceAll('{{name}}', vars.name));
    written.push(target);
  }
  return written;
}
