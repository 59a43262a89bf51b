// Rewrites docs/benchmarks.md section by section: the runner owns the preamble and the
// summary, each scenario its own `## ` section, and every other section (written by other
// benchmarks) stays as it is, where it is.

export interface Section {
  readonly heading: string;
  readonly body: string;
}

export interface Doc {
  readonly preamble: string;
  readonly sections: readonly Section[];
}

export function parseDoc(text: string): Doc {
  const lines = text.split('\n');
  const sections: Section[] = [];
  const preamble: string[] = [];
  let current: { heading: string; lines: string[] } | undefined;
  let fenced = false;
  for (const line of lines) {
    if (line.startsWith('```')) fenced = !fenced;
    if (!fenced && line.startsWith('## ')) {
      if (current) sections.push({ heading: current.heading, body: current.lines.join('\n').trim() });
      current = { heading: line.slice(3).trim(), lines: [] };
    } else if (current) current.lines.push(line);
    else preamble.push(line);
  }
  if (current) sections.push({ heading: current.heading, body: current.lines.join('\n').trim() });
  return { preamble: preamble.join('\n').trim(), sections };
}

/**
 * Replaces the sections named in `updates` (by heading) and appends the new ones after
 * `anchor` order; keeps the rest. `preamble` replaces the old one when given.
 */
export function mergeDoc(doc: Doc, updates: readonly Section[], preamble?: string): string {
  const byHeading = new Map(updates.map((s) => [s.heading, s]));
  const out: Section[] = doc.sections.map((s) => byHeading.get(s.heading) ?? s);
  const known = new Set(doc.sections.map((s) => s.heading));
  // new sections go after the last section the runner owns, in the order given
  let at = Math.max(-1, ...out.map((s, i) => (byHeading.has(s.heading) ? i : -1)));
  for (const s of updates) {
    if (known.has(s.heading)) continue;
    out.splice(++at, 0, s);
  }
  const head = (preamble ?? doc.preamble).trim();
  return [head, ...out.map((s) => `## ${s.heading}\n\n${s.body.trim()}`)].join('\n\n') + '\n';
}
