import { cpus, loadavg, totalmem } from 'node:os';

/** What the figures were measured on, as one line. */
export function machineLine(): string {
  const list = cpus();
  const model = list[0]?.model.trim() ?? 'unknown CPU';
  return `${list.length} cores (${model}), ${(totalmem() / 1024 ** 3).toFixed(1)} GB RAM, Node ${process.version}, ${process.platform}/${process.arch}`;
}

/** How busy the machine was: other work on it makes every figure slower and noisier. */
export function loadLine(): string {
  const [one, five] = loadavg();
  return `load average ${one!.toFixed(1)} (1 min), ${five!.toFixed(1)} (5 min)`;
}
