// Exits 0 once the broker answers a metadata request and its controller is elected; else 1.
import kafka from '@confluentinc/kafka-javascript';

const admin = kafka.AdminClient.create({ 'bootstrap.servers': process.argv[2], 'log_level': 0 });
const timer = setTimeout(() => process.exit(1), 5000);
admin.listTopics({ timeout: 4000 }, (err) => {
  clearTimeout(timer);
  admin.disconnect();
  process.exit(err ? 1 : 0);
});
