// The package provides what the gateway loads it for (checked by tsc).
import type { RedisEngine } from '../../gateway/src/rate-limit.ts';
import * as engine from '../src/index.ts';

engine satisfies RedisEngine;
