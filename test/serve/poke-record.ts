// The loop's side of the seam (cd/trigger.ts) for the webhook server's tests: it records what the
// server poked, takes every poke, and reports `last` as the loop's last run; and a server poking it.
import { after, before } from 'node:test';
import type { LastRun, Pokeable, Trigger } from '../../src/cd/trigger.ts';
import { Secret } from '../../src/config/secret.ts';
import { startWebhookServer, type WebhookServer } from '../../src/serve/server.ts';

export class PokeRecord implements Pokeable {
  pokes: Trigger[] = [];
  last: LastRun | undefined;
  poke(trigger: Trigger): boolean {
    this.pokes.push(trigger);
    return true;
  }
  lastRun(): LastRun | undefined {
    return this.last;
  }
}

/**
 * A webhook server on 127.0.0.1 for the tests of one describe block, started before them and
 * closed after, watching `repository`'s master branch and poking a PokeRecord.
 */
export function watchingServer(secret: string, repository: string): { loop: PokeRecord; url: () => string } {
  const loop = new PokeRecord();
  let server: WebhookServer | undefined;
  before(async () => {
    server = await startWebhookServer({
      listen: { host: '127.0.0.1', port: 0 },
      secret: new Secret(secret),
      maxBodyBytes: 64 * 1024,
      watch: { ref: 'refs/heads/master', repository },
      loop,
      log: { info: () => {}, warn: () => {} },
    });
  });
  after(() => server?.close());
  return { loop, url: () => server!.url };
}
