/**
 * The JSON Schema (draft-07) of a recrypt/v1 Job: the single source of the job format's shape, its
 * defaults and its field documentation. `jobs/schema.json` is `renderJobSchema()` written to disk (a
 * unit test keeps the two equal) so editors can validate job files. Every object is closed
 * (`additionalProperties: false`) except the free maps (labels, rule params, schema metadata), whose
 * values must be strings. Checks the schema cannot express well live in semantic.ts.
 *
 * Defaults sit only under `properties` (never inside oneOf/if), because the loader applies them with
 * ajv `useDefaults` after validation. Rule objects carry no defaults: they are written to the registry
 * as the user wrote them.
 */

export const JOB_API_VERSION = 'recrypt/v1';
export const JOB_KIND = 'Job';

export const NAME_PATTERN = '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$';
export const TOPIC_PATTERN = '^[a-zA-Z0-9._-]{1,249}$';
export const TOPIC_TEMPLATE_PATTERN = '^([a-zA-Z0-9._-]|\\{topic\\})+$';
export const SUBJECT_TEMPLATE_PATTERN = '^[^\\s{}]*(\\{topic\\}[^\\s{}]*)*$';
export const SUBJECT_PATTERN = '^[^\\s{}]+$';
export const ACTION_PATTERN = '^(ERROR|NONE|DLQ)(,(ERROR|NONE|DLQ))?$';
export const DAYS_PATTERN = '^[1-9][0-9]{0,5}$';

/** Human wording for each pattern, used in problem messages instead of the raw regex. */
export const PATTERN_HINTS: Readonly<Record<string, string>> = {
  [NAME_PATTERN]: "lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters",
  [TOPIC_PATTERN]: "a Kafka topic name: letters, digits, '.', '_' and '-', at most 249 characters",
  [TOPIC_TEMPLATE_PATTERN]: "a topic name made of letters, digits, '.', '_', '-' and the placeholder {topic}",
  [SUBJECT_TEMPLATE_PATTERN]: 'a subject name without spaces; braces only in the placeholder {topic}',
  [SUBJECT_PATTERN]: 'a subject name without spaces or braces',
  [ACTION_PATTERN]: 'ERROR, NONE or DLQ, or for WRITEREAD rules a pair such as ERROR,NONE (write,read)',
  [DAYS_PATTERN]: "a whole number of days as a string, such as '90'",
};

export const KMS_TYPES = ['aws-kms', 'azure-kms', 'gcp-kms', 'hcvault', 'local-kms'] as const;
export const DEK_ALGORITHMS = ['AES128_GCM', 'AES256_GCM', 'AES256_SIV'] as const;
const DOMAIN_MODES = ['WRITE', 'READ', 'WRITEREAD'];
const MIGRATION_MODES = ['UPGRADE', 'DOWNGRADE', 'UPDOWN'];

const stringMap = (description: string): Record<string, unknown> => ({
  type: 'object',
  description,
  propertyNames: { minLength: 1 },
  additionalProperties: { type: 'string' },
});

function ruleSchema(modes: readonly string[], list: string): Record<string, unknown> {
  return {
    type: 'object',
    description: `A Confluent rule of the ${list} list, as the Schema Registry stores it.`,
    additionalProperties: false,
    required: ['name'],
    properties: {
      name: { type: 'string', minLength: 1, description: 'Rule name, unique in the rule set; DLQ records name it in __rule.name.' },
      doc: { type: 'string', description: 'Free text describing the rule.' },
      kind: { type: 'string', enum: ['TRANSFORM', 'CONDITION'], description: 'TRANSFORM (the default) changes fields; CONDITION checks them.' },
      mode: {
        type: 'string',
        enum: [...modes],
        description: `When the rule runs: ${modes.join(', ')}. Default ${modes.includes('WRITEREAD') ? 'WRITEREAD' : 'UPDOWN'}.`,
      },
      type: {
        type: 'string',
        minLength: 1,
        examples: ['ENCRYPT', 'ENCRYPT_PAYLOAD', 'CEL', 'CEL_FIELD', 'JSONATA'],
        description: 'Rule executor: ENCRYPT encrypts the tagged fields, ENCRYPT_PAYLOAD the whole payload.',
      },
      tags: {
        type: 'array',
        items: { type: 'string', minLength: 1 },
        uniqueItems: true,
        description: 'Field tags the rule applies to (for example PII); no tags means every string or bytes field.',
      },
      params: {
        ...stringMap('Rule parameters (strings). Never credentials: those come from the environment or mounted files.'),
        properties: {
          'encrypt.kek.name': { type: 'string', minLength: 1, description: 'Name of the KEK (required for ENCRYPT rules).' },
          'encrypt.kms.type': { type: 'string', enum: [...KMS_TYPES], description: 'KMS of the KEK; needed to register a new KEK.' },
          'encrypt.kms.key.id': { type: 'string', minLength: 1, description: 'KMS key id of the KEK (an ARN, a key URI...).' },
          'encrypt.dek.algorithm': {
            type: 'string',
            enum: [...DEK_ALGORITHMS],
            description: 'DEK algorithm: AES256_GCM (default), AES128_GCM, or AES256_SIV (deterministic, for joins).',
          },
          'encrypt.dek.expiry.days': { type: 'string', pattern: DAYS_PATTERN, description: 'Rotate the DEK after this many days.' },
          'dlq.topic': { type: 'string', minLength: 1, description: 'DLQ topic for onFailure DLQ (the job dlq section is used otherwise).' },
        },
      },
      expr: { type: 'string', description: 'Expression of CEL or JSONata rules.' },
      onSuccess: { type: 'string', pattern: ACTION_PATTERN, description: 'Action on success: NONE (default), ERROR or DLQ; a pair "write,read" for WRITEREAD rules.' },
      onFailure: {
        type: 'string',
        pattern: ACTION_PATTERN,
        description:
          'Action on failure: ERROR (default), NONE or DLQ; a pair "write,read" for WRITEREAD rules. Write-side NONE on an ENCRYPT rule lets plaintext out and needs spec.allowPlaintextOnEncryptFailure.',
      },
      disabled: { type: 'boolean', description: 'A disabled rule does not run.' },
    },
  };
}

const ruleList = (modes: readonly string[], list: string, description: string): Record<string, unknown> => ({
  type: 'array',
  description,
  items: ruleSchema(modes, list),
});

export const JOB_SCHEMA: Readonly<Record<string, unknown>> = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'recrypt/v1 Job',
  description: 'A recrypt job: reads source topics, runs Confluent CSFLE rules and writes encrypted, decrypted or re-encrypted target topics.',
  type: 'object',
  additionalProperties: false,
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    apiVersion: { type: 'string', const: JOB_API_VERSION, description: 'Job format version: recrypt/v1.' },
    kind: { type: 'string', const: JOB_KIND, description: 'Always Job.' },
    metadata: {
      type: 'object',
      description: 'Identity of the job.',
      additionalProperties: false,
      required: ['name'],
      properties: {
        name: {
          type: 'string',
          pattern: NAME_PATTERN,
          description: 'Unique job name; names the consumer group, transactional ids and metrics.',
        },
        labels: stringMap('Free labels (string values), shown in status and metrics.'),
      },
    },
    spec: {
      type: 'object',
      description: 'What the job reads, how it transforms and where it writes.',
      additionalProperties: false,
      required: ['mode', 'source', 'target'],
      properties: {
        mode: {
          type: 'string',
          enum: ['encrypt', 'decrypt', 'reencrypt'],
          description:
            'Intent, checked against the schemas: encrypt (the target has ENCRYPT rules), decrypt (the target has none), reencrypt (both sides have them).',
        },
        source: {
          type: 'object',
          description: 'Topics to read: exactly one of topic, topics or topicPattern.',
          additionalProperties: false,
          oneOf: [{ required: ['topic'] }, { required: ['topics'] }, { required: ['topicPattern'] }],
          properties: {
            topic: { type: 'string', pattern: TOPIC_PATTERN, description: 'One source topic.' },
            topics: {
              type: 'array',
              minItems: 1,
              uniqueItems: true,
              items: { type: 'string', pattern: TOPIC_PATTERN },
              description: 'Several source topics (target.topic must then contain {topic}).',
            },
            topicPattern: {
              type: 'string',
              minLength: 1,
              description: 'Regular expression that the whole topic name must match (target.topic must then contain {topic}); internal topics (__*) never match.',
            },
            subjectNameStrategy: {
              type: 'string',
              enum: ['topic', 'record', 'topic-record'],
              default: 'topic',
              description: "Confluent subject name strategy of the source; names the subject whose DEKs decrypt it. topic: '<topic>-value'.",
            },
            startAt: {
              type: 'string',
              enum: ['earliest', 'latest', 'committed'],
              default: 'committed',
              description: "Where to start: the job's committed offsets (falling back to earliest), earliest or latest.",
            },
            stopAt: {
              type: 'string',
              enum: ['never', 'end'],
              default: 'never',
              description: 'never: stream forever; end: stop at the end offsets seen at start (a backfill).',
            },
          },
        },
        target: {
          type: 'object',
          description: 'Where and with which schema the output is written.',
          additionalProperties: false,
          required: ['topic'],
          properties: {
            topic: {
              type: 'string',
              pattern: TOPIC_TEMPLATE_PATTERN,
              description: "Target topic; with several source topics a template such as '{topic}.enc'.",
            },
            subject: {
              type: 'string',
              minLength: 1,
              pattern: SUBJECT_TEMPLATE_PATTERN,
              description: "Subject whose schema and ruleSet the output is written with; default '<target topic>-value'. May contain {topic}.",
            },
            keySubject: {
              type: 'string',
              minLength: 1,
              pattern: SUBJECT_TEMPLATE_PATTERN,
              description: "With keys: rules, the subject whose latest schema and ruleSet the output keys are written with; default '<target topic>-key'. May contain {topic}.",
            },
            partition: {
              type: 'string',
              enum: ['source', 'keyHash'],
              description:
                "Output partition: source (the default) keeps each record's source partition; keyHash puts it where Kafka's default partitioner puts its output key (murmur2 of the key bytes, & 0x7fffffff, modulo the target's partitions; a null key keeps its partition).",
            },
            schema: {
              description: 'Target schema version: latest, a version number, or { metadata: { key: value } } (latest with that metadata).',
              default: 'latest',
              oneOf: [
                { type: 'string', const: 'latest' },
                { type: 'integer', minimum: 1 },
                {
                  type: 'object',
                  additionalProperties: false,
                  required: ['metadata'],
                  properties: {
                    metadata: { ...stringMap('Metadata properties the version must carry.'), minProperties: 1 },
                  },
                },
              ],
            },
            upgrade: {
              type: 'string',
              enum: ['latest'],
              description: "latest: re-encrypt and upgrade in one pass: records written with any version of the source subject ('<source topic>-value') run its JSONata migration rules (UPGRADE; DOWNGRADE from newer ones) between the READ and WRITE rules, up to its latest version, which the target subject's latest schema must be (the source subject itself, or the output topic's subject holding the same schema, e.g. put there by spec.rules). target.schema stays latest. `recrypt plan` lists each version step.",
            },
            createTopic: {
              type: 'boolean',
              default: false,
              description: "Create the target topic when missing, with the source's partition count and topic configs.",
            },
            joinGroup: {
              type: 'object',
              description:
                'Join group: target subjects that share one DEK per KEK and algorithm, so equal plaintexts encrypt to equal AES256_SIV ciphertexts across their topics. ' +
                "Every job of the group names the same name and subjects; this job's target subject is one of them.",
              additionalProperties: false,
              required: ['name', 'subjects'],
              properties: {
                name: { type: 'string', pattern: NAME_PATTERN, description: 'Group name, the same in every job of the group.' },
                subjects: {
                  type: 'array',
                  minItems: 2,
                  uniqueItems: true,
                  items: { type: 'string', minLength: 1, pattern: SUBJECT_PATTERN },
                  description: 'Every target subject of the group (this job\'s included), the same list in every job; the first one sorted is the anchor where DEKs are created.',
                },
              },
            },
          },
        },
        rules: {
          type: 'object',
          description: 'Rule set (and tags) put on the target subject at start.',
          additionalProperties: false,
          properties: {
            domainRules: ruleList(DOMAIN_MODES, 'domainRules', 'Field-level rules (ENCRYPT...), run in list order on write.'),
            encodingRules: ruleList(DOMAIN_MODES, 'encodingRules', 'Payload-level rules (ENCRYPT_PAYLOAD...), run after encoding.'),
            migrationRules: ruleList(MIGRATION_MODES, 'migrationRules', 'Schema migration rules (UPGRADE, DOWNGRADE, UPDOWN).'),
          },
        },
        dlq: {
          type: 'object',
          description: 'Dead-letter queue for records whose rules fail with action DLQ. Never carries plaintext of tagged fields.',
          additionalProperties: false,
          required: ['topic'],
          if: { required: ['payload'], properties: { payload: { const: 'encrypted' } } },
          then: { required: ['kek'] },
          properties: {
            topic: { type: 'string', pattern: TOPIC_TEMPLATE_PATTERN, description: 'DLQ topic; may contain {topic}.' },
            payload: {
              type: 'string',
              enum: ['reference', 'redacted', 'source', 'encrypted'],
              default: 'reference',
              description:
                'reference: headers only; redacted: tagged fields emptied; source: original bytes (only when tagged source fields are ciphertext); encrypted: tagged fields under dlq.kek.',
            },
            kek: {
              type: 'object',
              description: 'KEK that encrypts tagged fields of DLQ records (required when payload is encrypted).',
              additionalProperties: false,
              required: ['name', 'kmsType', 'kmsKeyId'],
              properties: {
                name: { type: 'string', minLength: 1, description: 'KEK name in the DEK Registry.' },
                kmsType: { type: 'string', enum: [...KMS_TYPES], description: 'KMS of the KEK.' },
                kmsKeyId: { type: 'string', minLength: 1, description: 'KMS key id (an ARN, a key URI...).' },
              },
            },
            maxRatio: {
              type: 'number',
              exclusiveMinimum: 0,
              maximum: 1,
              default: 0.5,
              description:
                'DLQ circuit breaker: when more than maxRatio x window of the last `window` records went to the DLQ, the record that would exceed it halts its partition with DLQ_STORM instead (1 turns the breaker off).',
            },
            window: {
              type: 'integer',
              minimum: 10,
              maximum: 1000000,
              default: 1000,
              description: 'DLQ circuit breaker: how many of the last processed records (all partitions of the job) maxRatio is counted over.',
            },
          },
        },
        exactlyOnce: {
          type: 'boolean',
          default: true,
          description: 'Write output and commit source offsets in one Kafka transaction (target read read_committed).',
        },
        allowPlaintextOnEncryptFailure: {
          type: 'boolean',
          default: false,
          description: 'Opt-in for write-side onFailure NONE on ENCRYPT rules, which writes the field UNENCRYPTED when encryption fails.',
        },
        keys: {
          type: 'string',
          enum: ['passthrough', 'rules'],
          default: 'passthrough',
          description:
            "Record keys: passthrough copies them as they are; rules runs the source key subject's READ rules and the target key subject's WRITE rules on keys, like values (a non-null key that is not in Confluent framing is unreadable: the job's DLQ, reference only, or a halt).",
        },
        processing: {
          type: 'object',
          description: 'Throughput and timing tuning.',
          additionalProperties: false,
          default: {},
          properties: {
            batchSize: { type: 'integer', minimum: 1, maximum: 100000, default: 500, description: 'Records per batch (one transaction per batch when exactlyOnce).' },
            maxInFlight: {
              type: 'integer',
              minimum: 1,
              maximum: 10000,
              default: 64,
              description: 'Distinct writer schemas and DEKs a batch fetches at once (registry and KMS lookups in flight); records are still transformed in order.',
            },
            commitIntervalMs: { type: 'integer', minimum: 0, maximum: 60000, default: 1000, description: 'Longest time a partial batch waits before it is committed.' },
            transactionTimeoutMs: {
              type: 'integer',
              minimum: 1000,
              maximum: 900000,
              default: 60000,
              description: "Producer transaction timeout; at most the broker's transaction.max.timeout.ms.",
            },
            retryBackoffMs: { type: 'integer', minimum: 10, maximum: 60000, default: 500, description: 'First backoff after a transient failure.' },
            retryBackoffMaxMs: { type: 'integer', minimum: 100, maximum: 600000, default: 30000, description: 'Longest backoff between retries.' },
            stallTimeoutMs: {
              type: 'integer',
              minimum: 10000,
              maximum: 86400000,
              default: 300000,
              description: 'The job turns unready when it lags but makes no progress for this long.',
            },
            workers: {
              type: 'integer',
              minimum: 0,
              maximum: 256,
              description:
                "Worker threads that share each batch's field work with the main thread (0: the main thread alone). Default: the pod's CPUs (its cgroup CPU limit, else the cores) minus one. Small batches run on the main thread whatever this says.",
            },
          },
        },
        backfill: {
          type: 'object',
          description: 'How `recrypt backfill submit` splits the job into tasks.',
          additionalProperties: false,
          default: {},
          properties: {
            taskRecords: { type: 'integer', minimum: 1000, maximum: 1000000000, default: 1000000, description: 'Most records per task; used only with relaxOrdering (an ordered backfill runs one task per partition).' },
            relaxOrdering: {
              type: 'boolean',
              default: false,
              description: 'Allow splitting one partition into several offset ranges processed in parallel; order within a partition is then not kept.',
            },
            continueStreaming: {
              type: 'boolean',
              default: false,
              description: 'After the snapshot is done, continue as a streaming job with no gap and no duplicate (needs stopAt never).',
            },
          },
        },
      },
    },
  },
};

/** The text of jobs/schema.json. Regenerate with: npx tsx -e "import('./src/jobs/job-schema.ts').then(m => process.stdout.write(m.renderJobSchema()))" > jobs/schema.json */
export function renderJobSchema(): string {
  return `${JSON.stringify(JOB_SCHEMA, null, 2)}\n`;
}
