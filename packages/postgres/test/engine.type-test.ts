// The package provides what the runtime loads it for (checked by tsc).
import type { PostgresEngine } from '../../runtime/src/store/driver.ts';
import * as engine from '../src/index.ts';

engine satisfies PostgresEngine;
