import { contract, rpc } from 'carotene';
import { z } from 'zod';

export const Note = z.object({ id: z.string(), text: z.string(), createdAt: z.string() });

/**
 * What the notes service offers. Other services import this file, never the implementation:
 * a call with the wrong shape fails to compile.
 */
export const Notes = contract('notes', {
  createNote: rpc({
    input: z.object({ text: z.string().min(1).max(1_000) }),
    output: Note,
  }),
  getNote: rpc({
    input: z.object({ id: z.string() }),
    output: Note,
    errors: { NOTE_NOT_FOUND: 404 },
    idempotent: true,
  }),
});
