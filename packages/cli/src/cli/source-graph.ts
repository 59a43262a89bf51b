import { resolve } from 'node:path';
import { build } from 'esbuild';

/**
 * The app's own source files each entry module reaches through its imports (itself
 * included), by entry name: what `carrot dev --watch` watches for each service. Packages
 * (anything imported by a bare name) are left out, and so are `import type`s, which run
 * nothing. One esbuild pass over every entry, nothing written.
 *
 * ```ts
 * const graph = await sourceGraph(new Map([['orders', '/app/services/orders/service.ts']]));
 * graph.get('orders')?.has('/app/services/catalog/contract.ts'); // true: orders calls catalog
 * ```
 */
export async function sourceGraph(entries: ReadonlyMap<string, string>): Promise<Map<string, Set<string>>> {
  const names = [...entries.keys()];
  const result = await build({
    entryPoints: names.map((name, i) => ({ in: entries.get(name)!, out: `entry-${i}` })),
    bundle: true,
    write: false,
    metafile: true,
    packages: 'external',
    format: 'esm',
    platform: 'node',
    // absolute paths in the metafile, wherever the app is
    absWorkingDir: '/',
    outdir: '/carotene-source-graph',
    logLevel: 'silent',
  });
  const graph = new Map<string, Set<string>>();
  for (const [out, output] of Object.entries(result.metafile.outputs)) {
    const index = /entry-(\d+)\.js$/.exec(out)?.[1];
    if (index === undefined || !output.entryPoint) continue;
    graph.set(names[Number(index)]!, new Set(Object.keys(output.inputs).map((file) => resolve('/', file))));
  }
  return graph;
}
