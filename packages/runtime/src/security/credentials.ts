import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { dirname } from 'node:path';

/** PEM text of one process's TLS identity and the CAs it trusts. */
export interface TlsCredentials {
  /** One or more CA certificates (during a rotation: the new CA and the previous one). */
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

/** Where a process's credentials live on disk. */
export interface TlsFiles {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

/**
 * Credentials that may change while the process runs (certificate rotation). Servers and
 * clients read `current()` for every new connection context and subscribe to changes.
 */
export interface CredentialSource {
  current(): TlsCredentials;
  /** Calls `listener` after the credentials changed; returns the unsubscribe function. */
  onChange(listener: (credentials: TlsCredentials) => void): () => void;
  close(): void;
}

/** Credentials that never change (tests, benchmarks). */
export function fixedCredentials(credentials: TlsCredentials): CredentialSource {
  return { current: () => credentials, onChange: () => () => undefined, close: () => undefined };
}

/** Reads the three files once; throws with the path that could not be read. */
export function readCredentials(files: TlsFiles): TlsCredentials {
  const read = (what: string, path: string): string => {
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      throw new Error(`cannot read the TLS ${what} at ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); 'carrot dev' creates it`, {
        cause: err,
      });
    }
  };
  return { ca: read('CA bundle', files.ca), cert: read('certificate', files.cert), key: read('private key', files.key) };
}

export interface WatchOptions {
  /** Called when changed files could not be used; the previous credentials stay in force. */
  readonly onError?: (err: unknown) => void;
  /** Quiet time after the last file event before reloading (default 100 ms). */
  readonly debounceMs?: number;
}

/**
 * Credentials read from files and reloaded when the files change (`carrot certs rotate`
 * replaces them by atomic renames) or when `reload()` is called (e.g. on SIGHUP). A
 * half-written set — a new key with the old certificate — is refused by a trial
 * `createSecureContext` and retried on the next change, so a process never loses a
 * working identity.
 */
export function watchCredentials(files: TlsFiles, options: WatchOptions = {}): CredentialSource & { reload(): void } {
  let current = readCredentials(files);
  createSecureContext(current);
  const listeners = new Set<(c: TlsCredentials) => void>();
  let timer: NodeJS.Timeout | undefined;

  const reload = (): void => {
    let next: TlsCredentials;
    try {
      next = readCredentials(files);
      if (next.ca === current.ca && next.cert === current.cert && next.key === current.key) return;
      createSecureContext(next); // throws on a key that does not match its certificate
    } catch (err) {
      options.onError?.(err);
      return;
    }
    current = next;
    for (const listener of listeners) listener(next);
  };
  const schedule = (): void => {
    clearTimeout(timer);
    timer = setTimeout(reload, options.debounceMs ?? 100);
    timer.unref();
  };
  const watchers: FSWatcher[] = [...new Set([files.ca, files.cert, files.key].map((f) => dirname(f)))].map((dir) => {
    const watcher = watch(dir, { persistent: false }, schedule);
    watcher.on('error', (err) => options.onError?.(err));
    return watcher;
  });

  return {
    current: () => current,
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    reload,
    close() {
      clearTimeout(timer);
      for (const w of watchers) w.close();
      listeners.clear();
    },
  };
}
