#!/usr/bin/env node
// After `tsc -b`: the files a built package reads at run time that tsc does not emit
// (the dashboard's static page).
import { cpSync } from 'node:fs';

const root = new URL('..', import.meta.url);
cpSync(new URL('packages/cli/src/dashboard/static', root), new URL('packages/cli/dist/dashboard/static', root), { recursive: true });
