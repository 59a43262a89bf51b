#!/usr/bin/env node
// `npm create carotene my-app` runs this: the same as `carrot new my-app`.
const { main } = await import('@carotene/cli/main');
process.exit(await main(['new', ...process.argv.slice(2)]));
