import { Redis } from 'ioredis';

// Asked once at start, before any BullMQ connection exists: a queue that can't be reached is reported in one line,
// instead of clients that retry forever in the background.

export async function assertRedisReachable(url: string, timeoutMs = 5_000): Promise<void> {
  const probe = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    await probe.ping();
  } catch (err) {
    throw new Error(`cannot reach the Redis queue at ${url}: ${(err as Error).message || 'no answer'}`);
  } finally {
    probe.disconnect();
  }
}
