// The import directions of src/, checked by `npm run depcheck` (part of `npm test`):
//   cli → commands → serve → cd → run (+ context.ts) → notify → status → steps → git | lock → state → config → sys → errors
// A module may import its own folder and any folder below its own; nothing imports upward;
// no runtime cycles, no orphans, src/ never imports test/.
// See README.md "Architecture" and STYLE.md "Layout".

/**
 * Top to bottom. A folder may import the folders of the rows below its own, and those on its own
 * row only where the row says `sideways`. The middle level of STYLE.md (git / lock / state /
 * config) is split into rows because the code already has, and needs, an order inside it:
 * - git and lock sit on one row and never import each other: git/ takes the cache lock as a
 *   function (CacheLock), so the lock backend can change without touching git, and vice versa;
 * - both may import state/ (atomic files, the layout of on-disk names) and config/ (the typed
 *   sections: a remote, the lock timeouts);
 * - state/ may import config/ (a record may one day hold a config value), never git or lock;
 * - config/ is validated data: it imports none of them.
 * - sys/ (exec, process identity, output sinks, the crash-test pause) may throw mfd's errors;
 *   errors/ is the floor and imports nothing of ours, so any module can throw without a cycle.
 * - serve/ (the webhook HTTP server) wakes the deploy loop of cd/ through cd/trigger.ts only;
 *   cd/ (the loop, the poller, pause and quarantine) runs deploys through run/.
 * - notify/ and status/ are subscribers of a run's events that record-run.ts (run/) wires: below
 *   run/, never driving it; above steps/, as they read what a step left (the active deployment a
 *   rollback leaves) and state/ (their markers in .mfd/status). notify/ reuses status/'s reading of
 *   the events (the resolved sha, short shas), so it sits above it.
 * context.ts shares run/'s row: the Context is what orchestration (commands, run) takes; steps
 * and everything below get plain data, never the Context.
 */
const ROWS = [
  { folders: ['cli'] },
  { folders: ['commands'] },
  { folders: ['serve'] },
  { folders: ['cd'] },
  { folders: ['run', 'context'], sideways: true },
  { folders: ['notify'] },
  { folders: ['status'] },
  { folders: ['steps'] },
  { folders: ['git', 'lock'], sideways: false },
  { folders: ['state'] },
  { folders: ['config'] },
  { folders: ['sys'] },
  { folders: ['errors'] },
];

const pathOf = (folder) => (folder === 'cli' || folder === 'context' ? `^src/${folder}\\.ts$` : `^src/${folder}/`);
const anyOf = (folders) => folders.map(pathOf).join('|');

/**
 * Imports that still run upward after the move into folders, each owned by a change under way
 * (issue #11). Each lets exactly one file import exactly the named targets; delete the entry
 * when its change lands, and the rule holds for that file again.
 */
const TEMPORARY = [
];

function layerRules() {
  const rules = [];
  ROWS.forEach((row, index) => {
    const above = ROWS.slice(0, index).flatMap((r) => r.folders);
    const below = ROWS.slice(index + 1).flatMap((r) => r.folders);
    for (const folder of row.folders) {
      const siblings = row.folders.filter((f) => f !== folder);
      const forbidden = row.sideways ? above : [...above, ...siblings];
      if (forbidden.length === 0) continue;
      const allowed = [folder, ...(row.sideways ? siblings : []), ...below];
      const comment = `${folder} may import only ${allowed.join(', ')}`;
      const exceptions = TEMPORARY.filter((t) => t.folder === folder);
      rules.push({
        name: `layer-${folder}`,
        comment,
        severity: 'error',
        from: { path: pathOf(folder), ...(exceptions.length > 0 ? { pathNot: exceptions.map((e) => e.from) } : {}) },
        to: { path: anyOf(forbidden) },
      });
      for (const exception of exceptions) {
        rules.push({
          name: `layer-${folder}`,
          comment: `${comment}; temporarily, ${exception.from} also ${exception.to}`,
          severity: 'error',
          from: { path: exception.from },
          to: { path: anyOf(forbidden), pathNot: exception.to },
        });
      }
    }
  });
  return rules;
}

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...layerRules(),
    {
      name: 'no-circular',
      comment:
        'A cycle of imports that run at load time. A type-only edge is erased by the compiler, so a ' +
        'schema module checking that its inferred type equals the interface it validates is no cycle.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'no-orphans',
      comment: 'A module nothing imports is dead code, or a concern that lost its caller.',
      severity: 'error',
      from: { orphan: true, path: '^src/' },
      to: {},
    },
    {
      name: 'src-not-to-test',
      comment: 'The product never depends on its tests or their helpers.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^test/' },
    },
    {
      name: 'not-to-unresolvable',
      comment:
        'An import that resolves to nothing would also escape every rule above. The type-only import ' +
        'of a types-only package (@octokit/openapi-types has no runtime file) is resolved, and checked, by tsc.',
      severity: 'error',
      from: { path: '^src/' },
      to: { couldNotResolve: true, pathNot: '^@octokit/openapi-types$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
