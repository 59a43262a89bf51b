import { walkShop } from './shop-walk.ts';

// The same walk with every TypeScript service in one process: calls between them are
// in-process; recommendations, in Python, stays a process of its own.
walkShop({ title: 'monolith', args: ['--monolith'], processes: () => ['monolith', 'recommendations'] });
