import { walkShop } from './shop-walk.ts';

// The same walk with every service in one process: calls between them are in-process.
walkShop({ title: 'monolith', args: ['--monolith'], processes: () => ['monolith'] });
