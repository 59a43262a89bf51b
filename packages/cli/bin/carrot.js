#!/usr/bin/env node
// `carrot` loads the app's TypeScript through tsx, registered here before the first .ts import.
import { register } from 'tsx/esm/api';

// Built JavaScript (the installed packages) and plain-JavaScript packages with many module
// files (kysely ~260, zod ~95, jose ~45) are loaded before tsx's hooks exist: the hooks would
// see every one of those files (a third of a second for `carrot dev`); later imports of them
// resolve to these same modules. Run from source (the `source` condition, as in this
// repository's tests), the CLI itself is TypeScript and waits for the hooks.
const entry = import.meta.resolve('@carotene/cli/main');
const early = ['kysely', 'zod', 'jose'].map((name) => import(name).catch(() => undefined));
if (!entry.endsWith('.ts')) early.push(import(entry));
await Promise.all(early);

register();
const { main } = await import(entry);
process.exit(await main(process.argv.slice(2)));
