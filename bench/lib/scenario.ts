// What a scenario is to the runner: something that measures and returns its section of
// docs/benchmarks.md plus the lines it adds to the summary table.

/** One line of the summary table: a Carotene figure beside what it is compared with. */
export interface SummaryRow {
  readonly measure: string;
  readonly carotene: string;
  readonly reference: string;
  /** Carotene's figure over the reference, or the comparison that the target states. */
  readonly ratio: string;
  readonly target: string;
  /** Whether the target is met; undefined when the measure has no target. */
  readonly met: boolean | undefined;
}

export interface ScenarioResult {
  /** Heading of the scenario's section (`## <heading>`) in docs/benchmarks.md. */
  readonly heading: string;
  /** Markdown under the heading: tables, what was measured, and how to read it. */
  readonly body: string;
  readonly summary: readonly SummaryRow[];
}

export interface Scenario {
  readonly name: string;
  readonly describe: string;
  run(log: (line: string) => void): Promise<ScenarioResult>;
}

export function metMark(met: boolean | undefined): string {
  return met === undefined ? '' : met ? 'met' : 'missed';
}
