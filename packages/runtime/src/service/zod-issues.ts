import type { z } from 'zod';

export interface Issue {
  readonly path: string;
  readonly message: string;
}

/** Zod issues as `path: message` pairs, and one line of text for error messages. */
export function zodIssues(error: z.ZodError): { issues: Issue[]; text: string } {
  const issues = error.issues.slice(0, 20).map((i) => ({
    path: i.path.length > 0 ? i.path.map(String).join('.') : '(root)',
    message: i.message,
  }));
  return { issues, text: issues.map((i) => `${i.path}: ${i.message}`).join('; ') };
}
