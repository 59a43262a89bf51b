#!/usr/bin/env node
// The CLI is written in TypeScript; tsx must be registered before the first .ts import,
// so the entry point is loaded dynamically after `register()`.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exit(await main(process.argv.slice(2)));
