import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hashPassword, verifyPassword } from './password.ts';

test('a hash verifies its own password and no other', async () => {
  const stored = await hashPassword('correct horse battery');
  assert.match(stored, /^scrypt\$16384\$8\$1\$[\w-]+\$[\w-]+$/);
  assert.equal(await verifyPassword('correct horse battery', stored), true);
  assert.equal(await verifyPassword('correct horse battery!', stored), false);
});

test('every hash has its own salt', async () => {
  const [a, b] = await Promise.all([hashPassword('same password'), hashPassword('same password')]);
  assert.notEqual(a, b);
});

test('a malformed stored hash never verifies', async () => {
  for (const stored of ['', 'plain', 'scrypt$x$8$1$c2FsdA$a2V5', 'bcrypt$16384$8$1$c2FsdA$a2V5', 'scrypt$16384$8$1$c2FsdA$']) {
    assert.equal(await verifyPassword('anything', stored), false, stored);
  }
});
