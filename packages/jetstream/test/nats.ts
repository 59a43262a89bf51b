import { connect } from '@nats-io/transport-node';

export const natsUrl = process.env.CAROTENE_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

/** True when the NATS server answers with JetStream on; otherwise why not. */
export async function natsReachable(): Promise<true | string> {
  try {
    const nc = await connect({ servers: natsUrl, timeout: 2000, reconnect: false });
    try {
      const { jetstreamManager } = await import('@nats-io/jetstream');
      await (await jetstreamManager(nc)).getAccountInfo();
      return true;
    } finally {
      await nc.close();
    }
  } catch (err) {
    return `NATS JetStream not reachable at ${natsUrl}: ${(err as Error).message}`;
  }
}
