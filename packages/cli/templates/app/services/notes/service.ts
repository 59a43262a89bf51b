import { randomUUID } from 'node:crypto';
import { handler, implement } from 'carotene';
import { Notes } from './contract.ts';
import { migrations } from './migrations/index.ts';
import { NoteTable } from './tables.ts';

/** Notes: written through the gateway, kept in the service's own database. */
export default implement(Notes, { stores: [NoteTable], migrations }).handlers({
  createNote: handler({ updates: [NoteTable], route: 'POST /api/notes', status: 201 }, async ({ text }, ctx) => {
    const note = { id: `note_${randomUUID()}`, text, createdAt: new Date().toISOString() };
    await ctx.store.notes.insert(note);
    return note;
  }),
  getNote: handler({ reads: [NoteTable], route: 'GET /api/notes/:id' }, async ({ id }, ctx) => {
    const note = await ctx.store.notes.get(id);
    if (!note) throw ctx.reject('NOTE_NOT_FOUND', `no note '${id}'`);
    return note;
  }),
});
