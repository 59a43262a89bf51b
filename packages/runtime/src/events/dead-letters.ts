import type { AnyDb } from 'carotene/model';
import { DEAD_LETTERS, INBOX, type DeadLetterRow } from './platform-tables.ts';

/** Dead letters of one service, oldest first. */
export async function listDeadLetters(db: AnyDb): Promise<DeadLetterRow[]> {
  return (await db.selectFrom(DEAD_LETTERS).selectAll().orderBy('failed_at').execute()) as DeadLetterRow[];
}

/**
 * Puts dead letters back in the inbox as new, with their attempts reset, and removes them
 * from the dead letters; the service's worker handles them on its next look (within its
 * poll interval, or at once when it runs in this process). Resolves with the ids replayed.
 *
 * ```ts
 * await replayDeadLetters(store.db, 'all');
 * ```
 */
export async function replayDeadLetters(db: AnyDb, which: 'all' | readonly string[]): Promise<string[]> {
  return db.transaction().execute(async (trx) => {
    let query = trx.selectFrom(DEAD_LETTERS).select('id');
    if (which !== 'all') {
      if (which.length === 0) return [];
      query = query.where('id', 'in', [...which]);
    }
    const ids = ((await query.execute()) as { id: string }[]).map((r) => r.id);
    if (ids.length === 0) return [];
    await trx
      .updateTable(INBOX)
      .set({ status: 'pending', attempts: 0, next_attempt_at: 0, last_error: null })
      .where('id', 'in', ids)
      .where('status', '=', 'dead')
      .execute();
    await trx.deleteFrom(DEAD_LETTERS).where('id', 'in', ids).execute();
    return ids;
  });
}
