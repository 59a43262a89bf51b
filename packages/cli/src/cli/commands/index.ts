import type { Command } from '../command.ts';
import { build } from './build.ts';
import { bundle } from './bundle.ts';
import { certs } from './certs.ts';
import { contracts } from './contracts.ts';
import { dev } from './dev.ts';
import { events } from './events.ts';
import { faults } from './faults.ts';
import { migrations } from './migrations.ts';
import { sagas } from './sagas.ts';
import { status } from './status.ts';

/** Every `carrot` command; a new one is a file in this folder and a line here. */
export const commands: readonly Command[] = [dev, certs, build, bundle, contracts, migrations, status, events, faults, sagas];
