import { describe, expect, it } from "vitest";
import { startBroker } from "../../../src/index.js";
import { ALTER_CLIENT_QUOTAS_API } from "../../../src/protocol/generated/apis.js";
import { ErrorCode } from "../../../src/protocol/generated/error-codes.js";
import { body, client, request } from "../wire.js";

describe("AlterClientQuotas while quotas are not enforced", () => {
  it("refuses every entry with a message naming the quota and the entity", async () => {
    const broker = await startBroker({ listeners: "PLAINTEXT://127.0.0.1:0" });
    try {
      const c = await client(broker.port);
      c.socket.write(
        request(ALTER_CLIENT_QUOTAS_API, 1, 7, {
          entries: [
            {
              entity: [{ entityType: "user", entityName: "alice" }],
              ops: [{ key: "producer_byte_rate", value: 1048576, remove: false }],
            },
          ],
          validateOnly: false,
        }),
      );
      const answer = ALTER_CLIENT_QUOTAS_API.decodeResponse(
        body(await c.next(), ALTER_CLIENT_QUOTAS_API, 1),
        1,
      );
      expect(answer.entries).toHaveLength(1);
      expect(answer.entries[0]!.errorCode).toBe(ErrorCode.INVALID_REQUEST);
      expect(answer.entries[0]!.errorMessage).toContain("producer_byte_rate for user=alice was not changed");
      c.socket.destroy();
    } finally {
      await broker.stop();
    }
  }, 60_000);
});
