/** Registering brokers with a controller in tests, as a broker's lifecycle manager would. */
import type { BrokerRegistrationRequest, ControllerChannel } from "../../src/metadata/controller-channel.js";
import { registrationFeatures } from "../../src/metadata/features.js";
import { ErrorCode } from "../../src/protocol/generated/error-codes.js";

/** A registration of `brokerId` (incarnation id derived from it unless given). */
export function registration(
  brokerId: number,
  overrides: Partial<BrokerRegistrationRequest> = {},
): BrokerRegistrationRequest {
  const incarnation = `inc${String(brokerId).padStart(4, "0")}`.padEnd(21, "A");
  return {
    brokerId,
    clusterId: "",
    incarnationId: `${incarnation}Q`,
    listeners: [{ name: "PLAINTEXT", host: "127.0.0.1", port: 9000 + brokerId, securityProtocol: 0 }],
    features: registrationFeatures(),
    rack: null,
    logDirs: [],
    previousBrokerEpoch: -1n,
    ...overrides,
  };
}

/**
 * Registers `brokerId` and heartbeats it unfenced (its metadata offset taken from `offset`);
 * returns its broker epoch.
 */
export async function registerAndUnfence(
  controller: ControllerChannel,
  brokerId: number,
  offset: () => number,
  overrides: Partial<BrokerRegistrationRequest> = {},
): Promise<bigint> {
  const reply = await controller.registerBroker(registration(brokerId, overrides));
  if (reply.errorCode !== ErrorCode.NONE) throw new Error(`registration failed: ${reply.errorMessage}`);
  const hb = await controller.brokerHeartbeat({
    brokerId,
    brokerEpoch: reply.brokerEpoch,
    currentMetadataOffset: BigInt(offset()),
    wantFence: false,
    wantShutDown: false,
  });
  if (hb.errorCode !== ErrorCode.NONE || hb.isFenced) throw new Error(`broker ${brokerId} not unfenced`);
  return reply.brokerEpoch;
}
