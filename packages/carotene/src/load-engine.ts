import { platformError } from './errors.ts';

/** The optional engines, each a package of its own that an app installs only if it uses it. */
export type EnginePackage = '@carotene/postgres' | '@carotene/jetstream' | '@carotene/redis';

/**
 * Loads an optional engine by package name. The engine packages implement interfaces that
 * the runtime and the gateway define (`PostgresEngine`, `JetStreamEngine`, `RedisEngine`), so
 * the dependency points from the engine to its host; the host loads it only when the
 * configuration asks for it. An app that never configures PostgreSQL, JetStream or Redis
 * never installs them, and one that configures an engine it lacks is told which package to add.
 *
 * ```ts
 * const { openPostgres } = await loadEngine<PostgresEngine>('@carotene/postgres', 'a postgres:// database URL');
 * ```
 */
export async function loadEngine<T>(pkg: EnginePackage, needed: string): Promise<T> {
  try {
    // a name, not a literal: the host cannot depend on the engine at build time (it depends on the host)
    return (await import(pkg as string)) as T;
  } catch (err) {
    const code = (err as { code?: unknown } | null)?.code;
    if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && String((err as Error).message).includes(pkg)) {
      throw platformError('INVALID_CONFIG', `${needed} needs the package ${pkg}, which is not installed: npm install ${pkg}`);
    }
    throw err;
  }
}
