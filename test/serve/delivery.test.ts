// Which header identifies a delivery, over real HTTP through the webhook server: a replay must be
// recognised by an id that is one per delivery, and two deliveries must never share one. GitLab's
// X-Gitlab-Event-UUID is shared by every hook a webhook-triggered request sets off, so it is no such id.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { envelopeOf } from '../../src/serve/delivery.ts';
import { deliver, gitlab, gitlabPush, type Delivery } from './deliveries.ts';
import { watchingServer } from './poke-record.ts';

const SECRET = 'test-webhook-secret-3a7b';
const URL = 'https://gitlab.example.com/codertocat/hello-world.git';
const PATH = 'Codertocat/Hello-World';


const push = (options: Parameters<typeof gitlab>[3]) => gitlab('Push Hook', gitlabPush({ ref: 'refs/heads/master', httpUrl: URL, path: PATH }), SECRET, options);
const issue = (options: Parameters<typeof gitlab>[3]) => gitlab('Issue Hook', { object_kind: 'issue', project: { path_with_namespace: PATH, git_http_url: URL } }, SECRET, options);
/** What GitLab's "Resend Request" sends: the same body and Idempotency-Key, the other UUIDs new. */
const resend = (d: Delivery): Delivery => ({ body: d.body, headers: { ...d.headers, 'x-gitlab-webhook-uuid': randomUUID(), 'x-gitlab-event-uuid': randomUUID() } });

describe('serve/delivery', () => {
  const { loop, url } = watchingServer(SECRET, PATH);

  const actions = async (...deliveries: Delivery[]): Promise<string[]> => {
    const seen: string[] = [];
    for (const d of deliveries) seen.push(String((await deliver(url(), d)).json.action));
    return seen;
  };

  test('GitLab 17.4+: two deliveries sharing X-Gitlab-Event-UUID are two deliveries, and a resend (same Idempotency-Key) is a replay', async () => {
    const eventUuid = randomUUID();
    const first = push({ id: 'gl-key-1', eventUuid });
    // An issue hook ignored first must not make the push that shares its Event-UUID look like a replay.
    assert.deepEqual(await actions(issue({ eventUuid }), first, resend(first)), ['ignored', 'deploy', 'replay']);
    assert.deepEqual(loop.pokes.at(-1), { kind: 'webhook', delivery: 'gl-key-1' });
  });

  test('GitLab 16.2 to 17.3 (no Idempotency-Key): X-Gitlab-Webhook-UUID identifies the request, X-Gitlab-Event-UUID is never used', async () => {
    const eventUuid = randomUUID();
    const first = push({ version: '17.3', webhookUuid: 'gl-req-1', eventUuid });
    // The same request sent again (a captured one) is a replay; a resend is a new request there.
    assert.deepEqual(await actions(issue({ version: '17.3', eventUuid }), first, first, resend(first)), ['ignored', 'deploy', 'replay', 'deploy']);
  });

  test('GitLab before 16.2 sends only X-Gitlab-Event-UUID: its deliveries carry no id and none is taken for a replay', async () => {
    const eventUuid = randomUUID();
    assert.deepEqual(await actions(issue({ version: '16.1', eventUuid }), push({ version: '16.1', eventUuid }), push({ version: '16.1', eventUuid })), ['ignored', 'deploy', 'deploy']);
    assert.deepEqual(loop.pokes.at(-1), { kind: 'webhook', delivery: 'unknown' });
  });

  test('the id a GitLab envelope carries: Idempotency-Key, else X-Gitlab-Webhook-UUID, never X-Gitlab-Event-UUID', () => {
    const headers = { 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': 't', 'x-gitlab-event-uuid': 'ev' };
    assert.equal(envelopeOf({ ...headers, 'idempotency-key': 'key', 'x-gitlab-webhook-uuid': 'req' }).id, 'key');
    assert.equal(envelopeOf({ ...headers, 'x-gitlab-webhook-uuid': 'req' }).id, 'req');
    assert.equal(envelopeOf(headers).id, undefined);
    // Idempotency-Key is a standard header any client may send: it names a GitLab delivery only.
    assert.equal(envelopeOf({ 'x-github-event': 'push', 'x-github-delivery': 'gh', 'idempotency-key': 'key' }).id, 'gh');
  });
});
