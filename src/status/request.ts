// The one HTTP request that sets a commit status, per forge, as each documents it: GitHub's
// POST /repos/{owner}/{repo}/statuses/{sha}, Gitea's (and Forgejo's) of the same path under
// /api/v1, GitLab's POST /projects/:id/statuses/:sha, and the answer that says it was made.
// Pure: the token goes in a header, never the URL.
import type { operations } from '@octokit/openapi-types';
import type { StatusConfig } from '../config/status.ts';

/** mfd's states; each forge spells them its own way (GitLab: running, failed). */
export type CommitState = 'pending' | 'success' | 'failure' | 'error';

export interface StatusPost {
  sha: string;
  state: CommitState;
  /** At most 140 characters, already redacted (describe.ts). */
  description: string;
  targetUrl?: string;
}

export interface StatusRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  /**
   * The forge's documented answer: one of these HTTP statuses and a JSON object whose `field` is
   * the state sent. Any other 2xx (a captive portal, a proxy's page) did not set the status.
   */
  answer: { provider: StatusConfig['provider']; statuses: readonly number[]; field: 'state' | 'status'; value: string };
}

type GitHubBody = operations['repos/create-commit-status']['requestBody']['content']['application/json'];
type GitLabState = 'pending' | 'running' | 'success' | 'failed' | 'canceled';

const GITLAB_STATE: Record<CommitState, GitLabState> = { pending: 'running', success: 'success', failure: 'failed', error: 'failed' };
export const GITHUB_API_VERSION = '2022-11-28';

/** `token` is revealed by the caller right here, as the request is built. */
export function statusRequest(config: StatusConfig, post: StatusPost, token: string): StatusRequest {
  const json = { 'Content-Type': 'application/json', 'User-Agent': 'mfd' };
  const { repository: repo } = config;
  if (config.provider === 'gitlab') {
    const id = encodeURIComponent(repo.kind === 'project' ? repo.id : `${repo.owner}/${repo.name}`);
    const body = { state: GITLAB_STATE[post.state], name: config.context, description: post.description, ...(post.targetUrl ? { target_url: post.targetUrl } : {}) };
    // 201, as GitLab's API answers any POST; 200 is taken too: the status in the body is what proves the post.
    const answer = { provider: config.provider, statuses: [200, 201], field: 'status' as const, value: body.state };
    return { url: `${config.apiUrl}/projects/${id}/statuses/${post.sha}`, headers: { ...json, 'PRIVATE-TOKEN': token }, body: JSON.stringify(body), answer };
  }
  const path = repo.kind === 'owner' ? `${encodeURIComponent(repo.owner)}/${encodeURIComponent(repo.name)}` : encodeURIComponent(repo.id);
  // Gitea takes GitHub's body as is (its CreateStatusOption has the same four fields).
  const body: GitHubBody = { state: post.state, description: post.description, context: config.context, ...(post.targetUrl ? { target_url: post.targetUrl } : {}) };
  const headers = config.provider === 'github'
    ? { ...json, Authorization: `Bearer ${token}`, Accept: 'application/vnd.github+json', 'X-GitHub-Api-Version': GITHUB_API_VERSION }
    : { ...json, Authorization: `token ${token}`, Accept: 'application/json' };
  // GitHub's answer names the state `state`; Gitea's (its Status struct) names it `status`.
  const answer = { provider: config.provider, statuses: [201], field: config.provider === 'github' ? 'state' as const : 'status' as const, value: post.state };
  return { url: `${config.apiUrl}/repos/${path}/statuses/${post.sha}`, headers, body: JSON.stringify(body), answer };
}
