// `npm run demo`: a plaintext "legacy" Customer topic, backfilled into an encrypted topic by
// `recrypt run`, with a few records shown before and after, and read back with Confluent's own
// deserializer to show that any Confluent client can decrypt what recrypt wrote.
import { AvroDeserializer, AvroSerializer, FieldEncryptionExecutor, LocalKmsDriver, RuleRegistry, SchemaRegistryClient, SerdeType } from '@confluentinc/schemaregistry';
import kafkaJs from '@confluentinc/kafka-javascript';
import avro from 'avsc';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const brokers = process.env.KAFKA_BOOTSTRAP_SERVERS ?? '127.0.0.1:9092';
const registryUrl = process.env.SCHEMA_REGISTRY_URL ?? 'http://127.0.0.1:8081';
const secret = process.env.LOCAL_SECRET ?? readFileSync(process.env.LOCAL_SECRET_FILE!, 'utf8').trim();
const RECORDS = 2000;
const run = Date.now().toString(36);
const source = `demo.customers.${run}`;
const target = `demo.customers.${run}.enc`;
const schemaText = readFileSync(join(ROOT, 'demo/customer.avsc'), 'utf8');
const plainType = avro.Type.forSchema(JSON.parse(schemaText));

const bold = (s: string) => `\x1b[1m${s}\x1b[0m`;
const { Kafka, logLevel } = kafkaJs.KafkaJS;
const kafka = new Kafka({ kafkaJS: { brokers: [brokers], logLevel: logLevel.ERROR } });

const names = ['Ada Lovelace', 'Grace Hopper', 'Alan Turing', 'Edsger Dijkstra', 'Barbara Liskov', 'Ken Thompson'];
const countries = ['NL', 'DE', 'FR', 'US', 'JP'];

async function main(): Promise<void> {
  console.log(bold(`\n1. A legacy topic ${source} with ${RECORDS} plaintext Customer records (3 partitions)`));
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: source, numPartitions: 3, replicationFactor: 1 }] });
  await admin.disconnect();
  const client = new SchemaRegistryClient({ baseURLs: [registryUrl] });
  await client.register(`${source}-value`, { schemaType: 'AVRO', schema: schemaText });
  const plainSerializer = new AvroSerializer(client, SerdeType.VALUE, { useLatestVersion: true, autoRegisterSchemas: false });
  const producer = kafka.producer();
  await producer.connect();
  const messages = [];
  for (let i = 0; i < RECORDS; i++) {
    const name = names[i % names.length]!;
    const customer = { id: i, name, email: `${name.split(' ')[0]!.toLowerCase()}.${i}@example.com`, country: countries[i % countries.length]!, balance: Math.round(i * 137.31) / 100 };
    messages.push({ key: `customer-${i}`, value: await plainSerializer.serialize(source, customer), partition: i % 3 });
  }
  await producer.send({ topic: source, messages });
  await producer.disconnect();
  for (const m of messages.slice(0, 3)) console.log(`   ${m.key}: ${JSON.stringify(plainType.fromBuffer((m.value as Buffer).subarray(5)))}`);

  console.log(bold('\n2. recrypt run: encrypt every PII-tagged field into a new topic, exactly once'));
  const dir = mkdtempSync(join(tmpdir(), 'recrypt-demo-'));
  const jobFile = join(dir, 'backfill.yaml');
  writeFileSync(jobFile, readFileSync(join(ROOT, 'demo/backfill-job.yaml'), 'utf8').replace('SOURCE_TOPIC', source).replace('TARGET_TOPIC', target));
  console.log(`   $ recrypt plan ${jobFile}`);
  const planned = spawnSync(process.execPath, [join(ROOT, 'bin/recrypt.js'), 'plan', jobFile], { stdio: 'inherit', env: process.env });
  if (planned.status !== 0) throw new Error('recrypt plan failed');
  console.log(`\n   $ recrypt run ${jobFile}`);
  const result = spawnSync(process.execPath, [join(ROOT, 'bin/recrypt.js'), 'run', jobFile], { stdio: 'inherit', env: process.env });
  if (result.status !== 0) throw new Error(`recrypt run exited with ${result.status}`);

  console.log(bold(`\n3. The same records in ${target}, as a consumer without keys sees them`));
  const encrypted = await readTopic(target, 3);
  const targetSchema = await client.getLatestSchemaMetadata(`${target}-value`);
  const encType = avro.Type.forSchema(JSON.parse(targetSchema.schema));
  for (const m of encrypted) console.log(`   ${m.key}: ${JSON.stringify(encType.fromBuffer(m.value.subarray(5)))}`);

  console.log(bold("\n4. And decrypted by Confluent's own AvroDeserializer (@confluentinc/schemaregistry)"));
  LocalKmsDriver.register();
  const rules = new RuleRegistry();
  rules.registerExecutor(new FieldEncryptionExecutor());
  const deserializer = new AvroDeserializer(client, SerdeType.VALUE, { ruleConfig: { secret } }, rules);
  for (const m of encrypted) console.log(`   ${m.key}: ${JSON.stringify(await deserializer.deserialize(target, m.value))}`);
  console.log(`\nThe stack keeps running (npm run stack:down stops it). Try: node bin/recrypt.js validate jobs/examples/*.yaml\n`);
}

async function readTopic(topic: string, count: number): Promise<Array<{ key: string; value: Buffer }>> {
  const consumer = kafka.consumer({ kafkaJS: { groupId: `demo-reader-${run}`, fromBeginning: true } });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic] });
  const out: Array<{ key: string; value: Buffer }> = [];
  await new Promise<void>((done) => {
    const timer = setTimeout(done, 20_000);
    void consumer.run({
      eachMessage: async ({ partition, message }) => {
        if (partition === 0 && out.length < count) out.push({ key: message.key!.toString(), value: message.value! });
        if (out.length >= count) { clearTimeout(timer); done(); }
      },
    });
  });
  await consumer.disconnect();
  return out;
}

main().then(() => process.exit(0), (err: unknown) => {
  console.error(`demo failed: ${(err as Error).message}`);
  process.exit(1);
});
