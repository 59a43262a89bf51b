// Crash matrix of the checkout saga, second half: SIGKILL orders before and after the
// 'charge' and 'confirm' steps. See saga-chaos.ts.
import { test } from 'node:test';
import { stepCrashes } from './saga-chaos.ts';

test('the checkout saga completes after orders is killed before or after charge and confirm', { timeout: 150_000 }, async (t) => {
  await stepCrashes(['charge', 'confirm'], (line) => t.diagnostic(line));
});
