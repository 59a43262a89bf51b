// CPU time of the gateway bench's processes, read from /proc (Linux): what each proxy and the
// catalog spend per request, since they share the machine's cores with each other.
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

function pids(): number[] {
  try {
    return readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .map(Number);
  } catch {
    return [];
  }
}

function read(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** utime + stime fields of /proc/<pid>/stat, after the command name (which may hold spaces). */
function statFields(pid: number): string[] {
  const stat = read(`/proc/${pid}/stat`);
  return stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
}

function childrenOf(parent: number): number[] {
  return pids().filter((pid) => Number(statFields(pid)[1]) === parent);
}

/** Microseconds of CPU the processes have used so far; 0 for one that is gone. */
export function cpuMicros(of: readonly number[]): number {
  let ticks = 0;
  for (const pid of of) {
    const f = statFields(pid);
    ticks += (Number(f[11]) || 0) + (Number(f[12]) || 0);
  }
  return (ticks * 1e6) / TICKS_PER_SECOND;
}

/** The process of `service` that `carrot dev --data-dir <dataDir>` started; undefined when not found. */
export function shopProcess(dataDir: string, service: string): number | undefined {
  const carrot = pids().find((pid) => {
    const cmd = read(`/proc/${pid}/cmdline`);
    return cmd.includes('carrot.js') && cmd.includes(dataDir);
  });
  if (carrot === undefined) return undefined;
  return childrenOf(carrot).find((pid) => read(`/proc/${pid}/environ`).split('\0').includes(`CAROTENE_SERVICE=${service}`));
}

/** nginx's master and workers, found by the port in the config they were started with. */
export function nginxProcesses(port: number): number[] {
  const master = pids().find((pid) => {
    // nginx rewrites its command line to 'nginx: master process <args>', spaces for NULs
    const conf = /nginx.*-c[\0 ]([^\0 ]+)/.exec(read(`/proc/${pid}/cmdline`))?.[1];
    return conf !== undefined && read(conf).includes(`listen 127.0.0.1:${port};`);
  });
  return master === undefined ? [] : [master, ...childrenOf(master)];
}
