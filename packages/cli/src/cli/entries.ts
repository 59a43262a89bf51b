import { fileURLToPath } from 'node:url';

/**
 * True when the CLI runs from its TypeScript source (this repository, under the `source`
 * export condition) rather than from the built packages. Its children and bundles then
 * resolve the other Carotene packages to their source too, so one process never mixes the two.
 */
export const FROM_SOURCE = import.meta.url.endsWith('.ts');

/** The export conditions children and bundles resolve Carotene's packages with. */
export const CONDITIONS: readonly string[] = FROM_SOURCE ? ['source'] : [];

/** A module of another Carotene package, as a file path, resolved the way this process resolves it. */
export function entryFile(specifier: string): string {
  return fileURLToPath(import.meta.resolve(specifier));
}

export const RUNTIME_MAIN = entryFile('@carotene/runtime/main');
export const GROUP_MAIN = entryFile('@carotene/runtime/group-main');
export const MIGRATE_MAIN = entryFile('@carotene/runtime/migrate-main');
export const GATEWAY_MAIN = entryFile('@carotene/gateway/main');
