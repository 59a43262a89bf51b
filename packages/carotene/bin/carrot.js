#!/usr/bin/env node
// The CLI is written in TypeScript; tsx must be registered before the first .ts import,
// so the entry point is loaded dynamically after `register()`.
import { register } from 'tsx/esm/api';

// Plain-JavaScript packages with many module files (kysely ~260, zod ~95, jose ~45), loaded
// before tsx's loader hooks exist: the hooks would see every one of those files (a third of
// a second for `carrot dev`); later imports of them resolve to these same modules.
await Promise.all(['kysely', 'zod', 'jose'].map((name) => import(name).catch(() => undefined)));

register();
const { main } = await import('../src/cli/main.ts');
process.exit(await main(process.argv.slice(2)));
