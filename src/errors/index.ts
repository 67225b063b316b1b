// Every failure mfd reports is an MfdError: a stable code, an exit code per class, one line of
// facts (the message) and the next thing to do (the hint). cli.ts is the only place that prints them.
// This file only re-exports: one family of errors per file beside it.
export { EXIT, MfdError } from './base.ts';
export * from './usage.ts';
export * from './config.ts';
export * from './git.ts';
export * from './build.ts';
export * from './disk.ts';
export * from './activate.ts';
export * from './health.ts';
export * from './rollback.ts';
export * from './lock.ts';
export * from './fs.ts';
export * from './run.ts';
export * from './tree.ts';
export * from './serve.ts';
export * from './cd.ts';
