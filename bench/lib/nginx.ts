// Debian's nginx-light as a plain reverse proxy: installed with apt-get when missing (as
// root), run with its own temporary config on a free loopback port, stopped at the end.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const NGINX = '/usr/sbin/nginx';

/** Makes sure nginx is there; returns why not when it cannot be. */
export function ensureNginx(log: (line: string) => void): string | undefined {
  if (existsSync(NGINX)) return undefined;
  if (process.getuid?.() !== 0) return `${NGINX} is missing and the bench is not root, so it cannot install nginx-light`;
  log("gateway: /usr/sbin/nginx is missing; installing Debian's nginx-light with apt-get (the only download of the suite)");
  // RUNLEVEL=1 keeps the package's scripts from starting a system-wide nginx on port 80
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive', RUNLEVEL: '1' };
  const install = () => spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'nginx-light'], { env, stdio: 'ignore', timeout: 240_000 });
  if (install().status !== 0) {
    spawnSync('apt-get', ['update'], { env, stdio: 'ignore', timeout: 120_000 });
    if (install().status !== 0) return 'apt-get install nginx-light failed';
  }
  return existsSync(NGINX) ? undefined : 'nginx-light installed no /usr/sbin/nginx';
}

export interface RunningNginx {
  readonly url: string;
  stop(): Promise<void>;
}

/** Starts nginx in the foreground with `http` (the body of its http block) on `port`. */
export async function startNginx(httpBlock: string): Promise<RunningNginx> {
  const dir = mkdtempSync(join(tmpdir(), 'carotene-bench-nginx-'));
  chmodSync(dir, 0o755);
  const conf = join(dir, 'nginx.conf');
  const root = process.getuid?.() === 0 ? 'user root;\n' : '';
  writeFileSync(
    conf,
    `${root}worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
${httpBlock}
}
`,
  );
  const child: ChildProcess = spawn(NGINX, ['-p', dir, '-e', join(dir, 'error.log'), '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const port = /listen 127\.0\.0\.1:(\d+)/.exec(httpBlock)?.[1];
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}: ${stderr}${readLog(dir)}`);
    if (Date.now() > deadline) throw new Error(`nginx did not listen on ${url}: ${readLog(dir)}`);
    if (
      await fetch(`${url}/nginx-alive`).then(
        () => true,
        () => false,
      )
    )
      break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    async stop() {
      if (child.exitCode === null) {
        const exited = once(child, 'exit');
        child.kill('SIGQUIT');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function readLog(dir: string): string {
  try {
    return readFileSync(join(dir, 'error.log'), 'utf8');
  } catch {
    return '';
  }
}
