/** One row of the table `carrot dev` prints once everything is ready. */
export interface ReadyRow {
  readonly name: string;
  readonly url: string;
  readonly state: string;
  readonly pid: number | undefined;
  readonly startupMs: number | undefined;
}

const HEADER = ['service', 'url', 'state', 'pid', 'start-up'] as const;

/**
 * Formats rows as an aligned text table, one string per line.
 *
 * ```
 * service  url                     state  pid    start-up
 * orders   http://127.0.0.1:40211  ready  81234  412 ms
 * ```
 */
export function formatReadyTable(rows: readonly ReadyRow[]): string[] {
  const cells = [
    [...HEADER],
    ...rows.map((r) => [r.name, r.url, r.state, r.pid === undefined ? '-' : String(r.pid), r.startupMs === undefined ? '-' : `${r.startupMs} ms`]),
  ];
  const widths = HEADER.map((_, i) => Math.max(...cells.map((row) => row[i]?.length ?? 0)));
  return cells.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  '));
}
