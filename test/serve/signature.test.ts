import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Secret } from '../../src/config/secret.ts';
import { signBody, verifyHubSignature, verifyToken } from '../../src/serve/signature.ts';

// GitHub's published test vector: docs.github.com, "Validating webhook deliveries".
const VECTOR = {
  secret: "It's a Secret to Everybody",
  payload: 'Hello, World!',
  signature: 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17',
};

describe('serve/signature', () => {
  test("GitHub's published vector signs and verifies", () => {
    const secret = new Secret(VECTOR.secret);
    assert.equal(signBody(secret, VECTOR.payload), VECTOR.signature);
    assert.equal(verifyHubSignature(VECTOR.signature, Buffer.from(VECTOR.payload), secret), true);
  });

  test("Gitea's and Forgejo's bare hex form of the same HMAC verifies too", () => {
    const hex = VECTOR.signature.slice('sha256='.length);
    assert.equal(verifyHubSignature(hex, Buffer.from(VECTOR.payload), new Secret(VECTOR.secret)), true);
  });

  test('a changed body, a wrong secret, a cut or padded signature, non-hex and nothing are each a plain mismatch, never a throw', () => {
    const secret = new Secret(VECTOR.secret);
    const body = Buffer.from(VECTOR.payload);
    assert.equal(verifyHubSignature(VECTOR.signature, Buffer.from('Hello, World?'), secret), false);
    assert.equal(verifyHubSignature(VECTOR.signature, body, new Secret('another secret')), false);
    assert.equal(verifyHubSignature(VECTOR.signature.slice(0, -2), body, secret), false);
    assert.equal(verifyHubSignature(`${VECTOR.signature}00`, body, secret), false);
    // Buffer.from(hex, 'hex') drops an odd last digit and stops at a non-hex one: neither may pass.
    assert.equal(verifyHubSignature(`${VECTOR.signature}0`, body, secret), false);
    assert.equal(verifyHubSignature(`${VECTOR.signature.slice(7).toUpperCase()}f`, body, secret), false);
    assert.equal(verifyHubSignature(`${VECTOR.signature.slice(0, -1)}g`, body, secret), false);
    assert.equal(verifyHubSignature('sha256=', body, secret), false);
    assert.equal(verifyHubSignature('sha1=0123', body, secret), false);
    assert.equal(verifyHubSignature(undefined, body, secret), false);
  });

  test("GitLab's token matches only the secret itself, whatever its length", () => {
    const secret = new Secret('gitlab-token');
    assert.equal(verifyToken('gitlab-token', secret), true);
    for (const wrong of ['gitlab-toke', 'gitlab-tokenn', '', 'GITLAB-TOKEN']) assert.equal(verifyToken(wrong, secret), false, wrong);
    assert.equal(verifyToken(undefined, secret), false);
  });
});
