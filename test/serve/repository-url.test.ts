import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Trigger } from '../../src/cd/trigger.ts';
import { deliver, gitea, giteaPush, github, githubExample, gitlab, gitlabPush } from './deliveries.ts';
import { watchingServer } from './poke-record.ts';

const SECRET = 'shared-across-forges-secret-41d7';
const WATCHED = 'https://git.example.com/Codertocat/Hello-World.git';


// One secret shared by two forges: forge B's repository of the same owner/name must not poke the
// deploy of forge A's. The expected repository is a URL, so the payload's URLs decide.
describe('serve: [serve] repository as a URL', () => {
  const { loop, url } = watchingServer(SECRET, WATCHED);

  const pokesDuring = async (fn: () => Promise<void>): Promise<Trigger[]> => {
    const from = loop.pokes.length;
    await fn();
    return loop.pokes.slice(from);
  };

  test('a push whose URL is the watched one deploys, by any of its URLs', async () => {
    const push = giteaPush({ ref: 'refs/heads/master', cloneUrl: 'https://git.example.com/codertocat/hello-world.git', fullName: 'Codertocat/Hello-World' });
    const pokes = await pokesDuring(async () => assert.equal((await deliver(url(), gitea('push', push, SECRET))).json.action, 'deploy'));
    assert.equal(pokes.length, 1);
  });

  test('a push of the same owner/name from another host is 403 and pokes nothing, on every forge', async () => {
    const elsewhere = 'https://git.other.example/Codertocat/Hello-World.git';
    const githubPush = githubExample('push', (p) => p.ref === 'refs/heads/master');
    const cases: [string, Parameters<typeof deliver>[1]][] = [
      // GitHub's real example: github.com/Codertocat/Hello-World, full_name Codertocat/Hello-World.
      ['github', github('push', githubPush, SECRET)],
      ['gitea', gitea('push', giteaPush({ ref: 'refs/heads/master', cloneUrl: elsewhere, fullName: 'Codertocat/Hello-World' }), SECRET)],
      ['gitlab', gitlab('Push Hook', gitlabPush({ ref: 'refs/heads/master', httpUrl: elsewhere, path: 'Codertocat/Hello-World' }), SECRET)],
    ];
    const pokes = await pokesDuring(async () => {
      for (const [forge, d] of cases) {
        const answer = await deliver(url(), d);
        assert.equal(answer.status, 403, forge);
        assert.match(String(answer.json.reason), /^the delivery is for "https:\/\/(github\.com|git\.other\.example)\/Codertocat\/Hello-World(\.git)?", not "https:\/\/git\.example\.com\/Codertocat\/Hello-World\.git"/, forge);
      }
    });
    assert.deepEqual(pokes, []);
  });

  test('the same host with another path is 403', async () => {
    const push = giteaPush({ ref: 'refs/heads/master', cloneUrl: 'https://git.example.com/evil/Codertocat/Hello-World.git', fullName: 'Codertocat/Hello-World' });
    assert.equal((await deliver(url(), gitea('push', push, SECRET))).status, 403);
  });

  test('a payload with no URL at all is matched by its full name', async () => {
    const push = giteaPush({ ref: 'refs/heads/master', cloneUrl: '', fullName: 'Codertocat/Hello-World' });
    const pokes = await pokesDuring(async () => assert.equal((await deliver(url(), gitea('push', push, SECRET))).json.action, 'deploy'));
    assert.equal(pokes.length, 1);
    const other = giteaPush({ ref: 'refs/heads/master', cloneUrl: '', fullName: 'someone/Hello-World' });
    assert.equal((await deliver(url(), gitea('push', other, SECRET))).status, 403);
  });
});
