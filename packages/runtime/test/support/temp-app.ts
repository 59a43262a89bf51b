import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const WORKSPACE_MODULES = fileURLToPath(new URL('../../../../node_modules', import.meta.url));

/**
 * A small app written to a fresh temporary folder, as a user would have it: a tsconfig.json,
 * `app.ts` and a folder per service, with `carotene` and `zod` from the workspace's
 * node_modules (linked). `greeter` answers `greet`; `front` calls it and relays the answer,
 * so it is a caller of the greeter's contract. Edit its files with {@link TempApp.write}.
 */
export interface TempApp {
  readonly dir: string;
  readonly appFile: string;
  write(path: string, text: string): void;
}

export const GREETER_SERVICE = (greeting: string, type = 'string') => `import { handler, implement } from 'carotene';
import { Greeter } from './contract.ts';

export default implement(Greeter).handlers({
  greet: handler({ route: 'POST /api/greet' }, async ({ name }): Promise<${type}> => \`${greeting} \${name}\`),
});
`;

/** The greeter's contract; `field` adds a field to `greet`'s input (e.g. `, loud: z.boolean().optional()`). */
export const GREETER_CONTRACT = (field = '') => `import { contract, rpc } from 'carotene';
import { z } from 'zod';

export const Greeter = contract('greeter', {
  greet: rpc({ input: z.object({ name: z.string()${field} }), output: z.string() }),
});
`;

const FRONT_CONTRACT = `import { contract, rpc } from 'carotene';
import { z } from 'zod';

export const Front = contract('front', {
  relay: rpc({ input: z.object({ name: z.string() }), output: z.object({ said: z.string(), pid: z.number() }) }),
});
`;

const FRONT_SERVICE = `import { handler, implement } from 'carotene';
import { Greeter } from '../greeter/contract.ts';
import { Front } from './contract.ts';

export default implement(Front, { integrations: [Greeter] }).handlers({
  relay: handler({ calls: [Greeter], route: 'POST /api/relay' }, async ({ name }, ctx) => ({ said: await ctx.call.greeter.greet({ name }), pid: process.pid })),
});
`;

const APP = `import { app } from 'carotene';
import front from './services/front/service.ts';
import greeter from './services/greeter/service.ts';

export default app({ name: 'temp-app', services: [greeter, front] });
`;

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2023',
    lib: ['ES2023'],
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    allowImportingTsExtensions: true,
    verbatimModuleSyntax: true,
    skipLibCheck: true,
    noEmit: true,
    types: ['node'],
  },
  include: ['**/*.ts'],
  exclude: ['node_modules', '.carotene'],
};

export function tempApp(options: { tsconfig?: boolean } = {}): TempApp {
  const dir = mkdtempSync(join(tmpdir(), 'carotene-app-'));
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  };
  symlinkSync(WORKSPACE_MODULES, join(dir, 'node_modules'), 'dir');
  write('package.json', `${JSON.stringify({ name: 'temp-app', private: true, type: 'module' })}\n`);
  if (options.tsconfig !== false) write('tsconfig.json', `${JSON.stringify(TSCONFIG, null, 2)}\n`);
  write('app.ts', APP);
  write('services/greeter/contract.ts', GREETER_CONTRACT());
  write('services/greeter/service.ts', GREETER_SERVICE('hello'));
  write('services/front/contract.ts', FRONT_CONTRACT);
  write('services/front/service.ts', FRONT_SERVICE);
  return { dir, appFile: join(dir, 'app.ts'), write };
}
