import { table } from 'carotene';
import { z } from 'zod';

/** The notes service's own table: no other service can reach it. */
export const NoteTable = table('notes', {
  key: 'id',
  schema: z.object({ id: z.string(), text: z.string(), createdAt: z.string() }),
});
