// The shape of the code, checked in npm test (npm run check): no import circles anywhere, and arrows
// that point inward (see README, "How it is built"). A planted violation fails the check: see
// test/unit/boundaries.test.ts.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        "An import circle: two modules that need each other belong together or need a third. A circle closed only by type imports is not one at run time (the rule ids come from the registry, whose rules use the model's types).",
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'core-is-pure',
      severity: 'error',
      comment: 'functions/core has no I/O and knows no other room of the code.',
      from: { path: '^functions/core/' },
      to: { pathNot: ['^functions/core/', '^node_modules/(zod|picomatch)/', '^crypto$'] },
    },
    {
      name: 'low-rooms-stay-low',
      severity: 'error',
      comment:
        'The adapters and common rooms (cloudstack, stores, sources, notify, state, reports, metrics, secrets) never reach into the shells or the orchestration.',
      from: { path: '^functions/(common|cloudstack|stores|sources|notify|state|reports|metrics|secrets)/' },
      to: {
        path: '^functions/(cli|watch|handlers|demo)/|^functions/(audit|run|remediate|observability)\\.ts$',
      },
    },
    {
      name: 'adapters-do-not-know-each-other',
      severity: 'error',
      comment:
        'The CloudStack database and the stores never import each other or the sources; a source may read CloudStack (the event table), never a store.',
      from: { path: '^functions/(cloudstack|stores)/' },
      to: { path: '^functions/(cloudstack|stores|sources)/', pathNot: '^functions/$1/' },
    },
    {
      name: 'sources-say-where-to-look',
      severity: 'error',
      comment:
        'A source parses and hands over change events: it never reaches a store, a report or a notification.',
      from: { path: '^functions/sources/' },
      to: { path: '^functions/(stores|reports|notify)/' },
    },
    {
      name: 'common-is-common',
      severity: 'error',
      comment: 'common/ (atomic files, redaction) serves every room and stands on core/ alone.',
      from: { path: '^functions/common/' },
      to: { path: '^functions/', pathNot: '^functions/(common|core)/' },
    },
    {
      name: 'infra-is-cdk-only',
      severity: 'error',
      comment: 'infra/ describes the deployment; it imports no function code but what bundling needs.',
      from: { path: '^infra/' },
      to: { path: '^functions/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
    exclude: { path: '^(dist|node_modules|cdk\\.out)/' },
  },
};
