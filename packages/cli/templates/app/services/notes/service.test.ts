import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isCaroteneError } from 'carotene';
import { testService } from '@carotene/testing';
import notes from './service.ts';

test('a note written can be read back', async (t) => {
  const s = await testService(notes);
  t.after(() => s.close());
  const created = await s.call.createNote({ text: 'first' });
  assert.equal((await s.call.getNote({ id: created.id })).text, 'first');
  assert.equal((await s.store.notes.get(created.id))?.text, 'first');
});

test('an unknown note is NOTE_NOT_FOUND', async (t) => {
  const s = await testService(notes);
  t.after(() => s.close());
  await assert.rejects(s.call.getNote({ id: 'note_nope' }), (err) => isCaroteneError(err, 'NOTE_NOT_FOUND'));
});
