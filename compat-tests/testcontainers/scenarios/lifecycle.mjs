// KrillContainer's life cycle: two containers start side by side on their own loopback ports,
// each answers Metadata with the address it was started on (host networking: no port mapping, no
// advertised-listener rewriting), a broker config set with withBrokerConfig takes effect, stop()
// removes the container and the port stops answering.
import { createConnection } from "node:net";
import { check, kafka, krillContainer, scenario, startKrill, uniqueName } from "../lib.mjs";

function portAnswers(port) {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port, timeout: 2_000 });
    const done = (answered) => {
      socket.destroy();
      resolve(answered);
    };
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
    socket.once("timeout", () => done(false));
  });
}

scenario(async () => {
  const [a, b] = await Promise.all([
    startKrill(krillContainer().withBrokerConfig("num.partitions", 4)),
    startKrill(),
  ]);
  try {
    check(a.started.getPort() !== b.started.getPort(), "two containers got the same port");
    for (const { started } of [a, b]) {
      const admin = kafka(started.getBootstrapServers()).admin();
      await admin.connect();
      try {
        const cluster = await admin.describeCluster();
        const broker = cluster.brokers[0];
        check(cluster.brokers.length === 1, `brokers ${JSON.stringify(cluster.brokers)}`);
        check(
          broker?.host === "127.0.0.1" && broker.port === started.getPort(),
          `advertised ${broker?.host}:${broker?.port}, started on ${started.getBootstrapServers()}`,
        );
      } finally {
        await admin.disconnect();
      }
    }
    // num.partitions=4 on the first container only: auto-created topics show it.
    const partitionsOf = async (started) => {
      const admin = kafka(started.getBootstrapServers()).admin();
      await admin.connect();
      try {
        const topic = uniqueName("defaults");
        await admin.createTopics({ topics: [{ topic }], waitForLeaders: true });
        const meta = await admin.fetchTopicMetadata({ topics: [topic] });
        return meta.topics[0]?.partitions.length;
      } finally {
        await admin.disconnect();
      }
    };
    const [pa, pb] = [await partitionsOf(a.started), await partitionsOf(b.started)];
    check(pa === 4 && pb === 1, `default partitions: ${pa} with num.partitions=4, ${pb} without`);
  } finally {
    await Promise.all([a.started.stop(), b.started.stop()]);
  }
  for (const { started } of [a, b]) {
    check(!(await portAnswers(started.getPort())), `port ${started.getPort()} still answers after stop()`);
  }
});
