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
 * Writes `updates` as one block, in their order, where the first of them stood before (at
 * the top when none did, or when `top`); every other section keeps its place. `preamble`
 * replaces the old one when given.
 */
export function mergeDoc(doc: Doc, updates: readonly Section[], preamble?: string, top = false): string {
  const updated = new Set(updates.map((s) => s.heading));
  const first = doc.sections.findIndex((s) => updated.has(s.heading));
  const kept = doc.sections.filter((s) => !updated.has(s.heading));
  const at = first < 0 || top ? 0 : doc.sections.slice(0, first).filter((s) => !updated.has(s.heading)).length;
  const out = [...kept.slice(0, at), ...updates, ...kept.slice(at)];
  const head = (preamble ?? doc.preamble).trim();
  return [head, ...out.map((s) => `## ${s.heading}\n\n${s.body.trim()}`)].join('\n\n') + '\n';
}
