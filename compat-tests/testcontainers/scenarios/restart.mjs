// A graceful container restart (SIGTERM to the broker, then a new broker process on the same container
// filesystem) keeps topics and records: the broker shuts down cleanly inside the container and
// recovers its data at the next start.
import { check, consumeAll, kafka, scenario, startKrill, uniqueName } from "../lib.mjs";

const RECORDS = 50;

/** Reads the container's log stream (which follows) until two start-up lines or the deadline. */
async function logText(started, timeoutMs) {
  const stream = await started.logs();
  let text = "";
  const deadline = setTimeout(() => stream.destroy(), timeoutMs);
  try {
    for await (const chunk of stream) {
      text += chunk.toString();
      if (text.split('"msg":"broker started"').length >= 3) break;
    }
  } catch {
    // Destroyed at the deadline: check what arrived.
  } finally {
    clearTimeout(deadline);
    stream.destroy();
  }
  return text;
}

scenario(async () => {
  const { started } = await startKrill();
  try {
    const topic = uniqueName("restart");
    let client = kafka(started.getBootstrapServers());
    const producer = client.producer();
    await producer.connect();
    await producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: RECORDS }, (_, i) => ({ key: `k${i}`, value: `v${i}` })),
    });
    await producer.disconnect();

    const restartedMs = Date.now();
    // A graceful restart: SIGTERM, up to 30 s to stop (testcontainers defaults to SIGKILL at once).
    await started.restart({ timeout: 30_000 });
    console.log(`restarted in ${Date.now() - restartedMs} ms`);
    // The container's whole log (both runs): the first broker must have finished its shutdown.
    const text = await logText(started, 10_000);
    check(text.includes('"msg":"broker stopped"'), "the broker did not log a clean stop on restart");
    check(text.split('"msg":"broker started"').length === 3, "the log does not show two starts");

    client = kafka(started.getBootstrapServers());
    const received = await consumeAll(client, topic, RECORDS);
    check(received.length === RECORDS, `received ${received.length} of ${RECORDS} after restart`);
    check(
      received.every((r, i) => r.key === `k${i}` && r.value === `v${i}` && r.offset === String(i)),
      "records changed across the restart",
    );
  } finally {
    await started.stop();
  }
});
