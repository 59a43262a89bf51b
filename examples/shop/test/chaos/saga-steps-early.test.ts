// Crash matrix of the checkout saga, first half: SIGKILL orders before and after the
// 'order' and 'reserve' steps. See saga-chaos.ts.
import { test } from 'node:test';
import { stepCrashes } from './saga-chaos.ts';

test('the checkout saga completes after orders is killed before or after order and reserve', { timeout: 150_000 }, async (t) => {
  await stepCrashes(['order', 'reserve'], (line) => t.diagnostic(line));
});
