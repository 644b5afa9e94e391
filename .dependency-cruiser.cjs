// Enforces the module map (docs/architecture.md; target: shared/ARCHITECTURE.md). Two kinds of rule:
// 1. levels: imports point down the stack. A module may import modules on its own level or below, never
//    above.
// 2. each "must not" of the map that the code already keeps, as a named rule. The ones it does not keep
//    yet are listed under "Known gaps" in docs/architecture.md; a rule with an exception list names the
//    files that the gap's fix removes from it.
// kafka/ sits where its imports put it (util/ and the client libraries only), not where
// shared/ARCHITECTURE.md draws it (beside jobs/): it moves batches and knows nothing above it.
const levels = [
  ['model', 'util'],
  ['wire', 'kafka'],
  ['crypto', 'kms', 'registry'],
  ['rules', 'formats', 'keys'],
  ['engine', 'dlq'],
  ['jobs', 'backfill', 'audit', 'devregistry'],
  ['runtime'],
  ['service', 'cli'],
];
const above = (i) => levels.slice(i + 1).flat();
const forbidden = levels.slice(0, -1).map((mods, i) => ({
  name: `level-${i}-imports-up`,
  comment: `${mods.join(', ')} must not import ${above(i).join(', ')}`,
  severity: 'error',
  from: { path: `^src/(${mods.join('|')})/` },
  to: { path: `^src/(${above(i).join('|')})/` },
}));

const src = (...mods) => `^src/(${mods.join('|')})/`;
// Modules that do I/O: the network (node core and the clients in package.json) and the file system.
const netCore = '^(node:)?(http|https|http2|net|tls|dgram|dns)$';
const ioCore = '^(node:)?(http|https|http2|net|tls|dgram|dns|fs|fs/promises|child_process|worker_threads)$';
const netNpm = 'node_modules/(@confluentinc/kafka-javascript|kafkajs|ioredis|bullmq|undici|@aws-sdk|@azure|@google-cloud)/';
const kafkaClients = 'node_modules/(@confluentinc/kafka-javascript|kafkajs)/';
// Modules whose importers all go through index.ts today (dlq/ has its own rule below; the rest: "Known
// gaps" in docs/architecture.md).
const throughIndex = ['model', 'wire', 'engine', 'keys', 'backfill', 'devregistry'];

forbidden.push(
  {
    name: 'model-imports-nothing',
    comment: 'model/ holds shared plain types: it imports nothing of src/',
    severity: 'error',
    from: { path: src('model') },
    to: { path: '^src/', pathNot: src('model') },
  },
  {
    name: 'util-imports-only-util',
    comment: 'util/ is the bottom: it imports nothing of src/ but util/ and model/',
    severity: 'error',
    from: { path: src('util') },
    to: { path: '^src/', pathNot: src('util', 'model') },
  },
  {
    name: 'through-index',
    comment:
      'cross-module imports go through the module\'s index.ts. Enforced for the modules that keep it; the ' +
      'others are known gaps (docs/architecture.md)',
    severity: 'error',
    from: { path: '^src/([^/]+)/' },
    to: {
      path: `^src/(${throughIndex.join('|')})/`,
      pathNot: [`^src/(${throughIndex.join('|')})/index\\.ts$`, '^src/$1/'],
    },
  },
  {
    name: 'config-loads-no-queue',
    comment:
      'service/config.ts is loaded by every command: it takes backfill/\'s types only, so BullMQ and ioredis load ' +
      'for the backfill commands alone (start-up time, #24)',
    severity: 'error',
    from: { path: '^src/service/config\\.ts$' },
    to: { path: src('backfill'), dependencyTypesNot: ['type-only'] },
  },
  {
    name: 'dlq-not-bypassable',
    comment:
      'outside dlq/ only dlq/index.ts is imported: it exports the writer, which always runs the guard, and ' +
      'not the payload policies, so no DLQ record can be built without the guard',
    severity: 'error',
    from: { pathNot: src('dlq') },
    to: { path: src('dlq'), pathNot: '^src/dlq/index\\.ts$' },
  },
  {
    name: 'wire-knows-no-crypto',
    comment: 'wire/ is framing only: it does not know about crypto, KMS or keys',
    severity: 'error',
    from: { path: src('wire') },
    to: { path: src('crypto', 'kms', 'keys') },
  },
  {
    name: 'crypto-knows-no-kafka-or-registry',
    comment: 'crypto/ holds the primitives: no Kafka, no registry, no network',
    severity: 'error',
    from: { path: src('crypto') },
    to: { path: [src('registry', 'kafka', 'devregistry'), netNpm, netCore] },
  },
  {
    name: 'formats-never-import-registry',
    comment: 'formats/ take a SchemaInfo (model/), never a registry client',
    severity: 'error',
    from: { path: src('formats') },
    to: { path: src('registry', 'devregistry') },
  },
  {
    name: 'formats-never-call-network',
    comment: 'formats/ decode and encode bytes: no network module (global fetch is not visible here: see docs/architecture.md)',
    severity: 'error',
    from: { path: src('formats') },
    to: { path: [netNpm, netCore, src('kms', 'keys', 'kafka')] },
  },
  {
    name: 'rules-do-no-io',
    comment: 'rules/ is ruleSet semantics: no network, no file system, no module that does I/O',
    severity: 'error',
    from: { path: src('rules') },
    to: { path: [ioCore, netNpm, src('registry', 'kms', 'keys', 'kafka', 'devregistry')] },
  },
  {
    name: 'kms-caches-no-deks',
    comment: 'kms/ wraps and unwraps; DEK caches and lifecycle are keys/ (kms/ must not reach them)',
    severity: 'error',
    from: { path: src('kms') },
    to: { path: src('keys', 'registry') },
  },
  {
    name: 'only-keys-reaches-kms',
    comment:
      'KMS is reached through keys/; kms/ drivers are built where the job is wired (runtime, service, cli) ' +
      'and by the dev registry',
    severity: 'error',
    from: { path: '^src/', pathNot: src('kms', 'keys', 'runtime', 'service', 'cli', 'devregistry') },
    to: { path: src('kms') },
  },
  {
    name: 'audit-never-imports-kms',
    comment:
      'audit/ reaches KMS only through keys/ (DekManager, DekRewrapper and the one walk over KMS key ids in ' +
      'keys/kek-kms.ts): no file of audit/ imports kms/, types included (keys/ re-exports the two it takes)',
    severity: 'error',
    from: { path: src('audit') },
    to: { path: src('kms') },
  },
  {
    name: 'audit-never-imports-crypto',
    comment:
      'DEK material and ciphers are keys/ business: audit/ does not import crypto/. DEKs come from keys/; ' +
      'inspect decrypts field values and payloads with engine/\'s decryptField and decryptEncoded',
    severity: 'error',
    from: { path: src('audit') },
    to: { path: src('crypto') },
  },
  {
    name: 'keys-encode-no-records',
    comment: 'keys/ deals in KEKs and DEKs; records, their framing and their formats are not its business',
    severity: 'error',
    from: { path: src('keys') },
    to: { path: src('formats', 'wire') },
  },
  {
    name: 'engine-kernel-is-pure',
    comment:
      'the kernel runs on any thread: handed plans and DEK material, it transforms bytes synchronously. No ' +
      'import of keys/, dlq/, kafka/, registry/ or kms/, nor of the driver\'s modules that hold them ' +
      '(record-transformer, main-keyring, schema-store, dlq-route, dlq-view), and no node: I/O module ' +
      '(network, file system, processes, threads) or network client from src/engine/kernel/',
    severity: 'error',
    from: { path: '^src/engine/kernel/' },
    to: {
      path: [
        src('keys', 'dlq', 'kafka', 'registry', 'kms'),
        '^src/engine/(record-transformer|main-keyring|schema-store|dlq-route|dlq-view)\\.ts$',
        ioCore, netNpm,
      ],
    },
  },
  {
    name: 'engine-touches-no-kafka',
    comment: 'engine/ transforms records; it never touches Kafka (kafka/ or a Kafka client)',
    severity: 'error',
    from: { path: src('engine') },
    to: { path: [src('kafka'), kafkaClients] },
  },
  {
    name: 'kafka-knows-no-rule-semantics',
    comment: 'kafka/ moves batches; it takes a transform function, never rules, formats, keys or the engine',
    severity: 'error',
    from: { path: src('kafka') },
    to: { path: src('rules', 'formats', 'crypto', 'kms', 'keys', 'registry', 'engine', 'dlq', 'jobs') },
  },
  {
    name: 'only-kafka-makes-kafka-clients',
    comment: 'kafka/ (its client factory) is the only place Kafka clients are made: no other module imports a Kafka client library',
    severity: 'error',
    from: { path: '^src/', pathNot: src('kafka') },
    to: { path: kafkaClients },
  },
  {
    name: 'jobs-start-no-clients',
    comment: 'jobs/ loads, validates and plans job files; it starts no client',
    severity: 'error',
    from: { path: src('jobs') },
    to: { path: [netNpm, netCore, src('kafka', 'kms', 'keys', 'backfill', 'devregistry')] },
  },
  {
    name: 'backfill-owns-no-crypto',
    comment: 'backfill/ splits, checkpoints and verifies; crypto stays below the engine',
    severity: 'error',
    from: { path: src('backfill') },
    to: { path: src('crypto', 'kms', 'keys', 'formats', 'rules') },
  },
  {
    name: 'service-holds-no-cli',
    comment: 'the service needs nothing of cli/ (logic the service needs lives below both)',
    severity: 'error',
    from: { path: src('service', 'runtime') },
    to: { path: src('cli') },
  },
  {
    name: 'only-cli-uses-devregistry',
    comment: 'the dev registry is for local use and tests, never needed in production',
    severity: 'error',
    from: { path: '^src/', pathNot: src('cli', 'devregistry') },
    to: { path: src('devregistry') },
  },
  { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
);
module.exports = {
  forbidden,
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
