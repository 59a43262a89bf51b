import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CliError, parseOrUsage, UsageError, type CliIo, type Command } from '../command.ts';
import { appManifest, CAROTENE_VERSION, packageTarballs } from '../new-app.ts';
import { writeTemplate } from '../template.ts';

const USAGE = `Usage: carrot new <dir> [options]

Scaffolds a Carotene app in <dir>: one service with a contract, a table and its migration,
a public route, a testService test, a README, tsconfig.json and the npm scripts dev, test
and build; then runs npm install in it.

Options:
  --name <name>        The app's name (default: the folder's name)
  --packages <folder>  Install Carotene from the tarballs in <folder> (npm pack output) instead
                       of the registry: they are copied into <dir>/vendor/carotene, so the
                       generated Dockerfiles build from them too
  --no-install         Write the files only
  -h, --help           Show this help`;

export const newApp: Command = {
  name: 'new',
  summary: 'Scaffold a new app (new <dir>)',
  usage: USAGE,
  run: runNew,
};

async function runNew(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseOrUsage(() =>
    parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: { name: { type: 'string' }, packages: { type: 'string' }, 'no-install': { type: 'boolean', default: false } },
    }),
  );
  const [target, ...rest] = positionals;
  if (target === undefined) throw new UsageError('expected the folder of the new app');
  if (rest.length > 0) throw new UsageError(`expected one folder, got ${rest.length + 1}`);
  const dir = resolve(target);
  if (existsSync(dir) && readdirSync(dir).length > 0) throw new CliError(`${dir} is not empty: carrot new writes a new app into an empty or new folder`);
  const name =
    values.name ??
    basename(dir)
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '');
  if (!/^[a-z][a-z0-9-]{0,62}$/.test(name))
    throw new UsageError(`app name '${name}' must be lowercase letters, digits and dashes, starting with a letter (--name)`);

  const vendored = values.packages === undefined ? undefined : vendor(resolve(values.packages), dir);
  mkdirSync(dir, { recursive: true });
  const written = writeTemplate(dir, { name });
  written.push(appManifest(dir, name, vendored));
  io.out(`carrot new: '${name}' (Carotene ${CAROTENE_VERSION}) in ${dir}`);
  for (const file of written) io.out(`  ${relative(dir, file)}`);

  if (!values['no-install']) {
    io.out('carrot new: npm install');
    const npm = spawnSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: dir, stdio: ['ignore', 'inherit', 'inherit'] });
    if (npm.status !== 0) throw new CliError(`npm install failed in ${dir} (exit ${npm.status ?? npm.signal}); the files are written, run it again there`);
  }
  const cd = `cd ${relative(process.cwd(), dir) || '.'} && ${values['no-install'] ? 'npm install && ' : ''}`;
  io.out('');
  io.out(`Next: ${cd}npm run dev     (then: curl -s -X POST localhost:8080/api/notes -H 'content-type: application/json' -d '{"text":"hi"}')`);
  io.out(`      ${cd}npm test`);
  return 0;
}

/** Copies the Carotene tarballs of `folder` into the app; returns each package's `file:` spec. */
function vendor(folder: string, dir: string): Map<string, string> {
  const tarballs = packageTarballs(folder);
  const into = join(dir, 'vendor', 'carotene');
  mkdirSync(into, { recursive: true });
  const specs = new Map<string, string>();
  for (const [pkg, file] of tarballs) {
    copyFileSync(file, join(into, basename(file)));
    specs.set(pkg, `file:vendor/carotene/${basename(file)}`);
  }
  return specs;
}
