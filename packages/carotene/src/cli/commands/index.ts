import type { Command } from '../command.ts';
import { certs } from './certs.ts';
import { dev } from './dev.ts';

/** Every `carrot` command; a new one is a file in this folder and a line here. */
export const commands: readonly Command[] = [dev, certs];
