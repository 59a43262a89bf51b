import { readdirSync, readFileSync } from 'node:fs';

/** The pid of one service process of a `carrot dev` run, found by the environment it was given. */
export function servicePid(service: string, dataDir: string): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const env = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
      if (env.includes(`CAROTENE_SERVICE=${service}`) && env.includes(`CAROTENE_DATA_DIR=${dataDir}`)) return Number(entry);
    } catch {
      // gone, or not ours
    }
  }
  return undefined;
}
