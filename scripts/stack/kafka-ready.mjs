// Exits 0 once the broker answers a metadata request and its controller is elected; else 1.
// Usage: node kafka-ready.mjs BOOTSTRAP [librdkafka-property=value ...] (the secure stack passes its
// security settings this way; a value may itself hold '='; `=@FILE` reads the value from FILE, so a
// password never stands on a command line).
import { readFileSync } from 'node:fs';
import kafka from '@confluentinc/kafka-javascript';

const property = (arg) => {
  const name = arg.slice(0, arg.indexOf('='));
  const value = arg.slice(arg.indexOf('=') + 1);
  return [name, value.startsWith('@') ? readFileSync(value.slice(1), 'utf8').trim() : value];
};
const extra = Object.fromEntries(process.argv.slice(3).map(property));
const admin = kafka.AdminClient.create({ 'bootstrap.servers': process.argv[2], 'log_level': 0, ...extra });
const timer = setTimeout(() => process.exit(1), 5000);
admin.listTopics({ timeout: 4000 }, (err) => {
  clearTimeout(timer);
  admin.disconnect();
  process.exit(err ? 1 : 0);
});
